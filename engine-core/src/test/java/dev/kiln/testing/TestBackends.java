package dev.kiln.testing;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;
import org.junit.jupiter.api.Assumptions;

import java.util.Optional;

/**
 * The backend the shared test suites run on: {@code -Dkiln.test.backend=NAME} ("cpu" by default). engine-cuda runs
 * the same suites from engine-core's test jar with {@code cuda}; where that backend cannot run (no GPU), every test
 * is skipped with the backend's reason.
 */
public final class TestBackends {
    private TestBackends() {
    }

    public static String name() {
        return System.getProperty("kiln.test.backend", "cpu");
    }

    /** The backend under test, or a skipped test saying why it is unavailable. */
    public static Backend underTest() {
        Optional<Backend> b = Backends.find(name());
        Assumptions.assumeTrue(b.isPresent(), "skipped: backend '" + name() + "' is not available on this machine");
        return b.get();
    }

    /** The float64 plain-Java reference backend. */
    public static Backend reference() {
        return Backends.get("reference");
    }
}
