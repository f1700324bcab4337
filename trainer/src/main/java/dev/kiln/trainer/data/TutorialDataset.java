package dev.kiln.trainer.data;

import dev.kiln.io.pretrained.DownloadSettings;
import dev.kiln.io.pretrained.Downloader;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The default {@code --data}: the ants-vs-bees photos of PyTorch's transfer-learning tutorial, downloaded once from
 * their official address into the cache and unpacked there ({@code hymenoptera_data/train}, {@code .../val}). The
 * address can be overridden with {@code -Dkiln.data.url} or {@code KILN_DATA_URL} (a mirror, or a loopback server in
 * tests); the cache is {@code ~/.cache/kiln} unless {@code -Dkiln.cache.dir} or {@code KILN_CACHE_DIR} says otherwise.
 */
public final class TutorialDataset {
    public static final String DEFAULT_URL = "https://download.pytorch.org/tutorial/hymenoptera_data.zip";
    private static final String FOLDER = "hymenoptera_data";
    /** Bounds what a corrupted or hostile archive can make us write. */
    private static final long MAX_UNPACKED_BYTES = 2L << 30;

    private final URI url;
    private final Path cacheDir;
    private final Downloader downloader;

    public TutorialDataset(URI url, Path cacheDir, Downloader downloader) {
        this.url = url;
        this.cacheDir = cacheDir;
        this.downloader = downloader;
    }

    /** The address and cache from the system properties or environment (see the class comment); 5 s to connect. */
    public static TutorialDataset fromEnvironment() {
        String url = DownloadSettings.setting("kiln.data.url", "KILN_DATA_URL", DEFAULT_URL);
        return new TutorialDataset(URI.create(url), DownloadSettings.cacheDir(), DownloadSettings.downloader());
    }

    /** The unpacked folder, downloading and unpacking it the first time. */
    public Path folder() throws IOException {
        Path dir = cacheDir.resolve(FOLDER);
        if (Files.isDirectory(dir.resolve("train")) && Files.isDirectory(dir.resolve("val"))) return dir;
        Path zip = cacheDir.resolve(FOLDER + ".zip");
        try {
            // The tutorial publishes no checksum; the archive's layout is checked after unpacking instead.
            downloader.download(url, zip, "");
        } catch (IOException e) {
            throw new IOException(e.getMessage() + ". Without network access, point --data at a local folder with one "
                    + "subfolder per class (or train/ and val/), e.g. --data ../shared/data/hymenoptera", e);
        }
        unpack(zip, dir);
        Files.delete(zip);
        return dir;
    }

    /** Unpacks the archive's {@code hymenoptera_data/} into {@code dir}, all or nothing. */
    private void unpack(Path zip, Path dir) throws IOException {
        Path staging = Files.createTempDirectory(cacheDir, "." + FOLDER + "-");
        long written = 0;
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                Path target = staging.resolve(e.getName()).normalize();
                if (!target.startsWith(staging)) throw new IOException(zip + ": entry '" + e.getName() + "' leaves the folder");
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                written += Files.copy(limited(in, MAX_UNPACKED_BYTES - written), target);
                if (written >= MAX_UNPACKED_BYTES) throw new IOException(zip + ": unpacks to more than 2 GiB");
            }
            Path unpacked = staging.resolve(FOLDER);
            if (!Files.isDirectory(unpacked.resolve("train")) || !Files.isDirectory(unpacked.resolve("val"))) {
                throw new IOException(zip + ": expected " + FOLDER + "/train and " + FOLDER + "/val in the archive");
            }
            Files.move(unpacked, dir, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            deleteTree(staging);
        }
    }

    private static InputStream limited(InputStream in, long remaining) {
        return new InputStream() {
            private long left = remaining + 1; // one byte past the limit trips the check above

            @Override
            public int read() throws IOException {
                if (left <= 0) return -1;
                int b = in.read();
                if (b >= 0) left--;
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                if (left <= 0) return -1;
                int n = in.read(buf, off, (int) Math.min(len, left));
                if (n > 0) left -= n;
                return n;
            }
        };
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
