package dev.kiln.autograd;

import dev.kiln.models.ResNetVariant;
import dev.kiln.models.Bottleneck;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A frozen backbone below the first trainable layer costs a forward pass only: no node is recorded for it, so
 * backward runs only the head's nodes. Counted, not timed.
 */
class FrozenBackboneCostTest {

    private static Sequential model() {
        Sequential backbone = new Sequential(new Conv2D(3, 8, 3, 2, 1, false),
                new Bottleneck(8, 4, 1, ResNetVariant.TORCHVISION_V1_5),
                new Bottleneck(16, 4, 2, ResNetVariant.TORCHVISION_V1_5));
        return new Sequential()
                .append("backbone", backbone)
                .append("flatten", new Flatten())
                .append("dense", new Dense(16 * 4 * 4, 10, Activation.RELU))
                .append("predictions", new Dense(10, 3));
    }

    private static Tensor input() {
        SplittableRandom r = new SplittableRandom(2);
        float[] v = new float[2 * 3 * 16 * 16];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, 2, 3, 16, 16);
    }

    private static int backwardNodes(Layer model) {
        Tensor logits = model.forward(input(), Mode.TRAIN);
        return Autograd.backward(Ops.softmaxCrossEntropy(logits, Tensor.ofLabels(logits.backend(), new int[]{0, 2})));
    }

    @Test
    void aFrozenBackboneRecordsNothing() {
        Sequential model = model();
        model.layer("backbone").setTrainable(false);
        Tensor features = model.layer("backbone").forward(input(), Mode.TRAIN);
        assertFalse(features.requiresGrad());
        assertNull(features.gradFn());
        // linear, relu, linear, softmax cross-entropy; not even the flatten, whose input needs no gradient
        assertEquals(4, backwardNodes(model));
        assertNull(model.layer("backbone").weights().get(0).grad(), "no gradient was computed for the backbone");
    }

    @Test
    void unfreezingTheLastBlockAddsOnlyItsNodes() {
        Sequential model = model();
        model.layer("backbone").setTrainable(false);
        model.layer("backbone.2").setTrainable(true);
        int nodes = backwardNodes(model);
        // the head's 5 (with the flatten now), plus the block's 8: three convs, two fused BN+ReLU, the fused
        // BN + residual add + ReLU, and the downsample's conv and BN
        assertEquals(5 + 8, nodes);
        assertNull(model.layer("backbone.1").weights().get(0).grad());
    }

    @Test
    void everythingTrainableRunsEveryNode() {
        Sequential model = model();
        // + the first conv, + the first block's 8 (it has a downsample too: 8 -> 16 channels)
        assertEquals(5 + 8 + 8 + 1, backwardNodes(model));
    }
}
