package dev.kiln.io;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the read-only shared data folder; tests that need it are skipped, with a message, without it. */
public final class SharedData {
    private SharedData() {
    }

    /** The shared folder: system property kiln.shared.dir, else ../shared beside the repository root. */
    public static Path dir() {
        String prop = System.getProperty("kiln.shared.dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !(Files.exists(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("model-io")))) {
            p = p.getParent();
        }
        Path root = p != null ? p : Path.of("").toAbsolutePath();
        return root.resolve("../shared").normalize();
    }

    /** A file or folder under the shared dir; skips the calling test when it is absent. */
    public static Path require(String relative) {
        Path p = dir().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), () -> "skipped: shared data " + p
                + " not found (set -Dkiln.shared.dir to the shared folder)");
        return p;
    }
}
