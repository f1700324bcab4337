package dev.kiln.backend.cpu;

/**
 * How many threads the CPU backend uses, for both its Java loops and OpenBLAS: the available processors, or the
 * system property {@code kiln.threads}.
 */
final class CpuThreads {
    private static final int COUNT = resolve();

    private CpuThreads() {
    }

    static int count() {
        return COUNT;
    }

    private static int resolve() {
        String prop = System.getProperty("kiln.threads");
        if (prop != null && !prop.isBlank()) {
            try {
                int n = Integer.parseInt(prop.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the message below
            }
            throw new IllegalArgumentException("kiln.threads must be a positive integer, got '" + prop + "'");
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }
}
