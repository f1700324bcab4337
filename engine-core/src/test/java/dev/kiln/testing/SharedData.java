package dev.kiln.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the read-only shared data lives: {@code -Dkiln.shared.dir} (the root pom sets it to {@code ../shared}
 * beside the checkout), else the {@code KILN_SHARED_DIR} environment variable, else {@code shared/} beside the
 * checkout. model-io's and the trainer's tests use it too (engine-core's test-jar). The oracle
 * cases can be pointed elsewhere with {@code KILN_ORACLE_DIR}. Tests that need a folder that is absent are skipped
 * with a message that says what was looked for.
 */
public final class SharedData {
    private SharedData() {
    }

    public static Path sharedDir() {
        String prop = System.getProperty("kiln.shared.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("KILN_SHARED_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        return repositoryRoot().resolve("../shared").normalize();
    }

    /** The checkout holding the working directory (a module's folder, as surefire runs it, or the root). */
    private static Path repositoryRoot() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("engine-core"))) return p;
        }
        return here;
    }

    /** The oracle case directory: {@code KILN_ORACLE_DIR} (or {@code -Dkiln.oracle.dir}), else shared/oracle/cases. */
    public static Path oracleDir() {
        String prop = System.getProperty("kiln.oracle.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("KILN_ORACLE_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        return sharedDir().resolve("oracle").resolve("cases");
    }

    /** {@code sharedDir()/relative} (such as "data/hymenoptera"), or a skipped test that names it. */
    public static Path require(String relative) {
        return require(sharedDir().resolve(relative));
    }

    /** {@code path}, or a skipped test that names it. */
    public static Path require(Path path) {
        Assumptions.assumeTrue(Files.exists(path), "skipped: " + path.toAbsolutePath().normalize()
                + " is absent (set -Dkiln.shared.dir or KILN_SHARED_DIR / KILN_ORACLE_DIR)");
        return path;
    }
}
