package dev.kiln.io.pretrained;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What every Kiln download shares: settings read from a system property or else an environment variable, the cache
 * folder ({@code kiln.cache.dir} or {@code KILN_CACHE_DIR}, default {@code ~/.cache/kiln}), and a {@link Downloader}
 * that waits 5 s for a connection (so a machine without network fails fast) and 30 s for an answer.
 */
public final class DownloadSettings {
    private DownloadSettings() {
    }

    /** The system property {@code property}, else the environment variable {@code env}, else {@code fallback}. */
    public static String setting(String property, String env, String fallback) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) v = System.getenv(env);
        return v == null || v.isBlank() ? fallback : v;
    }

    public static Path cacheDir() {
        return Path.of(setting("kiln.cache.dir", "KILN_CACHE_DIR",
                Path.of(System.getProperty("user.home"), ".cache", "kiln").toString()));
    }

    public static Downloader downloader() {
        return new Downloader(Duration.ofSeconds(5), Duration.ofSeconds(30));
    }
}
