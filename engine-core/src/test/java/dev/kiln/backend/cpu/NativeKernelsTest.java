package dev.kiln.backend.cpu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Kiln's native kernels must load wherever the build compiled them and the CPU has AVX-512, or their tests would
 * silently skip and the backend quietly fall back to OpenBLAS.
 */
class NativeKernelsTest {
    @Test
    void loadsWhereItWasBuiltAndTheCpuRunsIt() throws IOException {
        boolean built = NativeKernels.class.getResource("linux-x86_64/libjniNativeKernels.so") != null;
        assumeTrue(built, "the build did not compile the native kernels (no g++, or the profile was off)");
        Path cpuinfo = Path.of("/proc/cpuinfo");
        assumeTrue(Files.exists(cpuinfo) && Files.readString(cpuinfo).contains(" avx512f"),
                "this CPU lacks AVX-512F");
        assertTrue(DirectConvolution.available(), "the native kernels were built and the CPU has AVX-512F, "
                + "yet they did not load (see the cpu backend's log line)");
    }
}
