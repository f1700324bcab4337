package dev.kiln.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One run of the {@code kiln} command line as a user types it: exit code, stdout and stderr. */
record CliRun(int code, String out, String err) {

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = KilnCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** Bad input: exit code 2 and one line, {@code kiln COMMAND: ...} with {@code fragment}, no stack trace. */
    void assertFailedWith(String command, String fragment) {
        assertEquals(KilnCli.EXIT_BAD_INPUT, code, "exit code; stderr: " + err);
        assertEquals(1, err.strip().lines().count(), "one line, no stack trace: " + err);
        assertTrue(err.startsWith("kiln " + command + ": "), err);
        assertTrue(err.contains(fragment), "expected '" + fragment + "' in: " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception:"), err);
    }

    /** Points the ImageNet download at a closed local port, and its cache at {@code cache}, while {@code r} runs. */
    static void withoutNetwork(Path cache, Runnable r) throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        System.setProperty("kiln.weights.base.url", "http://127.0.0.1:" + closedPort + "/models/");
        System.setProperty("kiln.cache.dir", cache.toString());
        try {
            r.run();
        } finally {
            System.clearProperty("kiln.weights.base.url");
            System.clearProperty("kiln.cache.dir");
        }
    }

    void assertSucceeded() {
        assertEquals(0, code, "stderr: " + err);
    }
}
