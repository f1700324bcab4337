package dev.kiln.models;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.nn.BatchNormalization;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestBackends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where nothing needs a gradient and a BatchNorm uses its moving statistics, a ResNet runs each convolution and
 * the BatchNorm after it as one fused kernel ({@link Conv2D#forwardWithBatchNorm}); where a gradient is needed,
 * the same layers run as separate recorded ops. Both compute the same float operations in the same order, so the
 * outputs must be identical, bit for bit, in both ResNet layouts (Keras's has convolution biases).
 */
class FrozenConvBatchNormFusionTest {
    private Backend backend;

    @BeforeEach
    void pickBackend() {
        backend = TestBackends.underTest();
    }

    private static Sequential blocks(ResNetVariant variant) {
        return new Sequential(new Bottleneck(8, 4, 2, variant), new Bottleneck(16, 4, 1, variant));
    }

    /** Moves the model to the backend under test and gives every weight and statistic non-trivial values. */
    private Layer prepared(Layer model, long seed) {
        return prepared(model, seed, "");
    }

    /** As {@link #prepared(Layer, long)}, for the state-dict entries whose names end with {@code suffix}. */
    private Layer prepared(Layer model, long seed, String suffix) {
        model.to(backend, dev.kiln.tensor.DType.F32);
        SplittableRandom r = new SplittableRandom(seed);
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            if (!e.getKey().endsWith(suffix)) continue;
            float[] v = new float[(int) e.getValue().numel()];
            boolean variance = e.getKey().endsWith("running_var");
            for (int i = 0; i < v.length; i++) {
                v[i] = variance ? (float) (0.2 + r.nextDouble()) : (float) (0.3 * r.nextGaussian());
            }
            backend.write(e.getValue(), v);
        }
        return model;
    }

    /**
     * Nine images of 22×22: the first 1×1 convolution gets one GEMM per image, the 1×1s on 11×11 outputs (the
     * strided downsample and the rest) groups of eight and one, the 3×3s grouped GEMMs, so every CPU formulation
     * of the fused kernel runs.
     */
    private Tensor input(boolean requiresGrad) {
        SplittableRandom r = new SplittableRandom(5);
        float[] v = new float[9 * 8 * 22 * 22];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(backend, v, 9, 8, 22, 22).setRequiresGrad(requiresGrad);
    }

    @Test
    void fusedFrozenForwardEqualsTheRecordedOneBitForBit() {
        for (ResNetVariant variant : ResNetVariant.values()) {
            Layer model = prepared(blocks(variant), 3);
            model.setTrainable(false);
            Tensor fused = model.forward(input(false), Mode.TRAIN);
            assertNull(fused.gradFn(), "a frozen block records nothing");
            Tensor recorded = model.forward(input(true), Mode.TRAIN);
            assertTrue(recorded.gradFn() != null, "an input that needs a gradient is recorded");
            assertArrayEquals(recorded.toFloatArray(), fused.toFloatArray(), variant.name());
            Tensor evaluated = model.forward(input(false), Mode.EVAL);
            assertArrayEquals(fused.toFloatArray(), evaluated.toFloatArray(), variant + ": a frozen BatchNorm"
                    + " runs in inference mode in TRAIN as in EVAL");
        }
    }

    /**
     * The whole frozen ResNet50 at its real size, where every layer shape and image grouping of the real network
     * runs, at batches of six (partial image groups at 14×14) and one (single-image GEMMs everywhere).
     */
    @Test
    void aWholeFrozenResNet50MatchesItsRecordedForwardBitForBit() {
        // Glorot-initialized convolutions, random moving statistics: activations stay in a sane range.
        Layer model = prepared(prepared(new ResNet50(ResNetVariant.TORCHVISION_V1_5, false, 0), 7, "running_mean"),
                8, "running_var");
        model.setTrainable(false);
        for (int batch : new int[]{6, 1}) {
            SplittableRandom r = new SplittableRandom(batch);
            float[] v = new float[batch * 3 * 224 * 224];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            Tensor fused = model.forward(Tensor.of(backend, v, batch, 3, 224, 224), Mode.EVAL);
            Tensor recorded = model.forward(Tensor.of(backend, v, batch, 3, 224, 224).setRequiresGrad(true),
                    Mode.EVAL);
            float[] expected = recorded.toFloatArray();
            assertTrue(Float.isFinite(expected[0]) && Math.abs(expected[0]) < 1e6, "sane activations: " + expected[0]);
            assertArrayEquals(expected, fused.toFloatArray(), "batch " + batch);
            fused.close();
            recorded.close();
        }
    }

    @Test
    void theFusedOpRefusesAnInputThatNeedsAGradient() {
        Conv2D conv = new Conv2D(8, 4, 1, 1, 0, false);
        BatchNormalization bn = new BatchNormalization(4);
        prepared(new Sequential(conv, bn), 4);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Ops.conv2dBatchNormInference(input(true), conv.weight().value(), null, Conv2dSpec.of(1, 0),
                        bn.inferenceForm(), null, true));
        assertTrue(e.getMessage().contains("requires one"), e.getMessage());
    }
}
