package dev.kiln.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak resident memory of this process from Linux's /proc/self/status (VmHWM), which counts the JVM heap, native
 * tensors and OpenBLAS buffers alike. Writing 5 to /proc/self/clear_refs resets the peak, so each case can be
 * measured on its own inside one JVM.
 */
final class ProcessMemory {
    private ProcessMemory() {
    }

    /** Peak resident set in bytes, or -1 where /proc is not available. */
    static long peakResidentBytes() {
        return statusKib("VmHWM:") * 1024;
    }

    static long residentBytes() {
        return statusKib("VmRSS:") * 1024;
    }

    /** Starts a new peak from the current resident size; false where the kernel does not allow it. */
    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    private static long statusKib(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
