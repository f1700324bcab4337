package dev.kiln.trainer;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The read-only shared data folder: system property {@code kiln.shared.dir} (the root pom passes it to surefire),
 * else {@code ../shared} from the repository root. Tests that need it skip, with a message, where it is absent.
 */
public final class SharedData {
    private SharedData() {
    }

    public static Path dir() {
        String prop = System.getProperty("kiln.shared.dir");
        return prop != null ? Path.of(prop) : Path.of("..", "..", "shared");
    }

    /** {@code dir()/relative}, or a skipped test naming what is missing. */
    public static Path require(String relative) {
        Path p = dir().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "skipped: shared data " + p.toAbsolutePath()
                + " is absent (set -Dkiln.shared.dir to the folder holding data/ and oracle/)");
        return p;
    }
}
