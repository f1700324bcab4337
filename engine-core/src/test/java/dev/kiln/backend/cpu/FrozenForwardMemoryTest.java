package dev.kiln.backend.cpu;

import dev.kiln.autograd.Autograd;
import dev.kiln.backend.Backends;
import dev.kiln.models.Bottleneck;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A forward pass that records no node frees each intermediate activation once it is consumed, so a frozen
 * backbone holds a few activations at a time instead of all of them; a recorded forward keeps what backward needs.
 * Measured with the CPU allocator's peak of live bytes (sizes, not time).
 */
class FrozenForwardMemoryTest {
    private CpuBackend cpu;

    @BeforeEach
    void cpuIsTheDefault() {
        Assumptions.assumeTrue(Backends.defaultBackend() instanceof CpuBackend, "parameters live on the CPU backend");
        cpu = (CpuBackend) Backends.defaultBackend();
    }

    /** A ResNet-like stack: a stem conv, six identity bottlenecks at 16x16, a strided one; then a small head. */
    private static Sequential model() {
        ResNetVariant v = ResNetVariant.TORCHVISION_V1_5;
        Sequential backbone = new Sequential(new Conv2D(3, 16, 3, 1, 1, false));
        for (int i = 0; i < 6; i++) backbone.append(new Bottleneck(16, 4, 1, v));
        backbone.append(new Bottleneck(16, 8, 2, v));
        return new Sequential()
                .append("backbone", backbone)
                .append("flatten", new Flatten())
                .append("predictions", new Dense(32 * 8 * 8, 3));
    }

    private static Tensor input() {
        SplittableRandom r = new SplittableRandom(5);
        float[] v = new float[4 * 3 * 16 * 16];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, 4, 3, 16, 16);
    }

    /** Peak live bytes above what was live before the forward, and the output's values. */
    private float[] forwardPeak(Sequential model, Tensor x, long[] peak) {
        long before = cpu.allocatedBytes();
        cpu.resetPeakBytes();
        Tensor y = model.layer("backbone").forward(x, Mode.EVAL);
        peak[0] = cpu.peakBytes() - before;
        return y.toFloatArray();
    }

    @Test
    void aFrozenForwardHoldsFarLessThanARecordedOne() {
        Sequential model = model();
        Tensor x = input();
        long[] recorded = new long[1], frozen = new long[1];
        float[] recordedOut = forwardPeak(model, x, recorded);
        model.layer("backbone").setTrainable(false);
        float[] frozenOut = forwardPeak(model, x, frozen);

        assertArrayEquals(recordedOut, frozenOut, "freeing intermediates changes no value");
        assertFalse(x.isClosed(), "the caller's input is never closed");
        // 7 blocks of 6 activations each are all kept when recorded; frozen, a block's input, its shortcut and
        // two intermediates at most.
        assertTrue(frozen[0] * 3 < recorded[0], "frozen peak " + frozen[0] + " vs recorded " + recorded[0]);
    }

    @Test
    void backwardStillFindsWhatTheUnfrozenPartSaved() {
        Sequential model = model();
        model.layer("backbone").setTrainable(false);
        model.layer("backbone.7").setTrainable(true);
        Tensor logits = model.forward(input(), Mode.TRAIN);
        Autograd.backward(Ops.softmaxCrossEntropy(logits, Tensor.ofLabels(logits.backend(), new int[]{0, 2, 1, 0})));
        assertNotNull(model.layer("backbone.7").weights().get(0).grad());
        assertNotNull(model.layer("predictions").weights().get(0).grad());
        assertNull(model.layer("backbone.6").weights().get(0).grad());
    }
}
