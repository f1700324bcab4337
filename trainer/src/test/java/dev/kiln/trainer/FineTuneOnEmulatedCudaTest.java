package dev.kiln.trainer;

import dev.kiln.backend.BackendProvider;
import dev.kiln.backend.Backends;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.safetensors.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fine-tuning recipe on the CUDA backend's own code without a GPU: the "cuda-emulated" backend of engine-cuda's
 * tests runs Kiln's CUDA kernels on a host emulation, with the CPU backend in place of cuDNN and cuBLAS. The small
 * run of {@link FineTuneIntegrationTest} (both phases, the feature cache, checkpoints written from device memory)
 * must give the CPU's history, and the same checkpoint.
 */
class FineTuneOnEmulatedCudaTest {
    /**
     * Per-epoch losses differ in the last bits: the CUDA kernels compute a row's log-sum-exp in float, in another
     * order than the CPU's loops, and Adam then amplifies that a little (measured: up to 2.5e-5 on epoch 1's losses
     * of about 0.7, 2.6e-6 on phase 2's 0.0042). 1e-5 absolute plus 1e-4 relative allows that with room, and is
     * far below what one wrongly updated parameter or one mislabelled batch would move.
     */
    private static final double LOSS_ABSOLUTE = 1e-5;
    private static final double LOSS_RELATIVE = 1e-4;

    /** Most trained values agree to this (measured: all but 0.26% of the dense weights); at most 1% may not. */
    private static final double CLOSE = 1e-5;

    @Test
    void runningOutOfDeviceMemoryNamesTheBatchSizeAndThePlan() {
        assumeTrue(Backends.find("cuda-emulated-64mib").isPresent(),
                "skipped: the cuda-emulated backends are unavailable");
        FineTuneOptions o = FineTuneIntegrationTest.smallRun(tmp.resolve("small"));
        o.device = "cuda-emulated-64mib";  // SqueezeNet's training step at batch 4 needs more than that
        UserInputException e = assertThrows(UserInputException.class,
                () -> new FineTuner(o, new CollectingReporter()).run());
        String m = e.getMessage();
        assertTrue(m.startsWith("the device ran out of memory at batch size 4 (cudaMalloc failed: "
                + "cudaErrorMemoryAllocation while allocating"), m);
        assertTrue(m.endsWith("use a smaller --batch, or run `kiln plan --model squeezenet1_1 --head gap-dense"
                + " --classes 2 --batch 4` to see what fits"), m);
    }

    /**
     * How far apart the trained parameters may end up. Adam divides each gradient by its own running size, so a
     * parameter whose gradient is at rounding level still takes steps of up to about lr, whose sign the rounding
     * decides (measured: a few dense weights differ by up to 5.9e-4 after 4 steps at lr 1e-3).
     * Twice the summed step sizes of both phases bounds that; the histories above check the training itself.
     */
    private static double adamBound(FineTuneOptions o) {
        int stepsPerEpoch = (2 * o.limitPerClass + o.batch - 1) / o.batch;  // two classes, limitPerClass each
        return 2 * stepsPerEpoch * (o.epochs * o.lr + o.fineTuneEpochs * o.fineTuneLr);
    }

    @TempDir
    Path tmp;

    @Test
    void theRecipeTrainsAsOnTheCpu() throws Exception {
        assumeTrue(Backends.find("cuda-emulated").isPresent(), () -> "skipped: cuda-emulated is unavailable ("
                + Backends.providers().stream().filter(p -> p.name().equals("cuda-emulated"))
                .map(BackendProvider::unavailableReason).findFirst().orElse("not on the class path") + ")");
        FineTuneOptions onCpu = FineTuneIntegrationTest.smallRun(tmp.resolve("cpu"));
        FineTuneOptions onCuda = FineTuneIntegrationTest.smallRun(tmp.resolve("cuda"));
        onCuda.device = "cuda-emulated";
        List<EpochRecord> cpu = new FineTuner(onCpu, new CollectingReporter()).run().history().records();
        List<EpochRecord> cuda = new FineTuner(onCuda, new CollectingReporter()).run().history().records();

        assertEquals(cpu.size(), cuda.size());
        for (int i = 0; i < cpu.size(); i++) {
            EpochRecord c = cpu.get(i), g = cuda.get(i);
            String epoch = "epoch " + c.epoch();
            assertEquals(c.phase(), g.phase(), epoch);
            assertEquals(c.loss(), g.loss(), LOSS_ABSOLUTE + LOSS_RELATIVE * Math.abs(c.loss()), epoch + " loss");
            assertEquals(c.valLoss(), g.valLoss(), LOSS_ABSOLUTE + LOSS_RELATIVE * Math.abs(c.valLoss()),
                    epoch + " val loss");
            assertEquals(c.accuracy(), g.accuracy(), epoch + " accuracy");
            assertEquals(c.valAccuracy(), g.valAccuracy(), epoch + " val accuracy");
        }

        NamedTensors cpuCheckpoint = SafeTensors.read(onCpu.out.resolve(Checkpoint.FILE_NAME));
        NamedTensors cudaCheckpoint = SafeTensors.read(onCuda.out.resolve(Checkpoint.FILE_NAME));
        assertEquals(cpuCheckpoint.names(), cudaCheckpoint.names());
        for (String name : cpuCheckpoint.names()) {
            if (name.startsWith("adam.")) continue;  // moments, in gradient units: the histories cover them
            float[] expected = cpuCheckpoint.get(name).toFloats();
            float[] actual = cudaCheckpoint.get(name).toFloats();
            if (name.startsWith("model.backbone.features.") && !name.startsWith("model.backbone.features.12.")) {
                assertArrayEquals(expected, actual, name + ": frozen, so bit-identical on every backend");
            } else {
                assertArrayEquals(expected, actual, (float) adamBound(onCpu), name);
                int apart = 0;
                for (int i = 0; i < expected.length; i++) {
                    if (Math.abs(expected[i] - actual[i]) > CLOSE) apart++;
                }
                assertTrue(apart <= expected.length / 100, name + ": " + apart + " of " + expected.length
                        + " values differ by more than " + CLOSE);
            }
        }
    }
}
