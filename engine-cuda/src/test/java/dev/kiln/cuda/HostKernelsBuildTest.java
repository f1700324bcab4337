package dev.kiln.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where Maven's host-emulation profile built the emulated kernels (it sets {@code kiln.cuda.emulationBuilt}), they
 * must load: otherwise every emulated test would skip, and skips pass.
 */
class HostKernelsBuildTest {

    @Test
    void theEmulationLoadsWhereverTheBuildMadeIt() {
        assumeTrue(Boolean.getBoolean("kiln.cuda.emulationBuilt"), "the host-emulation profile did not build it here");
        assertNull(HostKernels.UNAVAILABLE);
    }
}
