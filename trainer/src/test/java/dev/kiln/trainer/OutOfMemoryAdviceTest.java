package dev.kiln.trainer;

import dev.kiln.backend.DeviceMemoryExhausted;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutOfMemoryAdviceTest {

    /** What a GPU backend throws, as the trainer sees it: some exception marked as the device's memory running out. */
    private static final class DeviceOutOfMemory extends RuntimeException implements DeviceMemoryExhausted {
        DeviceOutOfMemory(String message) {
            super(message);
        }
    }

    @Test
    void anOutOfMemoryFailureNamesTheBatchSizeAndThePlanCommand() {
        RuntimeException e = OutOfMemoryAdvice.atBatchSize(new DeviceOutOfMemory(
                "cudaMalloc failed: cudaErrorMemoryAllocation while allocating 3.00 GiB (conv2dForward x(256, 64, 112, 112))"
                        + "\nHINT: the GPU is out of memory; use a smaller batch, or run `kiln plan` to see what fits."), 256,
                "kiln plan --model squeezenet1_1 --head gap-dense --batch 256");
        assertTrue(e instanceof UserInputException, "the CLI prints it as one line, without a stack trace");
        String m = e.getMessage();
        assertTrue(m.startsWith("the device ran out of memory at batch size 256 (cudaMalloc failed"), m);
        assertTrue(m.contains("3.00 GiB") && !m.contains("\n"), m);
        assertTrue(m.endsWith("use a smaller --batch, or run `kiln plan --model squeezenet1_1 --head gap-dense"
                + " --batch 256` to see what fits"), m);
    }

    @Test
    void otherFailuresPassThroughUnchanged() {
        IllegalStateException other = new IllegalStateException("something else");
        assertSame(other, OutOfMemoryAdvice.atBatchSize(other, 32, "kiln plan --batch 32"));
    }
}
