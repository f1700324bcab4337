package dev.kiln.nn;

import dev.kiln.autograd.Autograd;
import dev.kiln.models.Bottleneck;
import dev.kiln.models.ResNetVariant;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Compare;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keras semantics of the {@code trainable} flag, and optimizers that follow it from step to step. */
class TrainableSemanticsTest {

    /** A small classifier: a Bottleneck "backbone", global pooling, and a dense head. */
    private static final class Net extends Layer {
        final Layer stem = add("stem", new Sequential(new Conv2D(3, 8, 3, 1, 1, false), new BatchNormalization(8)));
        final Layer block = add("block", new Bottleneck(8, 4, 2, ResNetVariant.TORCHVISION_V1_5));
        final Layer head = add("head", new Dense(16, 3));

        @Override
        protected Tensor call(Tensor x, Mode mode) {
            Tensor h = Ops.relu(stem.forward(x, mode));
            return head.forward(Ops.globalAvgPool(block.forward(h, mode)), mode);
        }
    }

    private static Tensor input() {
        SplittableRandom r = new SplittableRandom(1);
        float[] v = new float[4 * 3 * 8 * 8];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, 4, 3, 8, 8);
    }

    private static void trainSteps(Net net, Adam adam, Tensor x, int steps) {
        Tensor labels = Tensor.ofLabels(x.backend(), new int[]{0, 1, 2, 1});
        for (int i = 0; i < steps; i++) {
            try (MemoryScope ignored = MemoryScope.open()) {
                net.zeroGrad();
                Autograd.backward(Ops.softmaxCrossEntropy(net.forward(x, Mode.TRAIN), labels));
                adam.step();
            }
        }
    }

    private static List<float[]> snapshot(Layer layer) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : layer.allParameters()) out.add(p.value().toFloatArray());
        return out;
    }

    @Test
    void weightCountsFollowKeras() {
        Conv2D conv = new Conv2D(3, 4, 3, 1, 1, true);
        assertEquals(2, conv.trainableWeights().size());
        BatchNormalization bn = new BatchNormalization(4);
        assertEquals(2, bn.trainableWeights().size(), "gamma and beta");
        assertEquals(2, bn.nonTrainableWeights().size(), "moving mean and variance");
        bn.setTrainable(false);
        assertEquals(0, bn.trainableWeights().size());
        assertEquals(4, bn.nonTrainableWeights().size());
        assertFalse(bn.parameter("weight").value().requiresGrad());
    }

    @Test
    void frozenLayersNeverChangeAndFrozenBatchNormKeepsItsStatistics() {
        Net net = new Net();
        net.stem.setTrainable(false);
        net.block.setTrainable(false);
        List<float[]> stemBefore = snapshot(net.stem), blockBefore = snapshot(net.block);
        List<float[]> headBefore = snapshot(net.head);
        trainSteps(net, new Adam(net, 1e-2), input(), 3);
        List<float[]> stemAfter = snapshot(net.stem), blockAfter = snapshot(net.block);
        for (int i = 0; i < stemBefore.size(); i++) Compare.assertIdentical("stem " + i, stemBefore.get(i), stemAfter.get(i));
        for (int i = 0; i < blockBefore.size(); i++) Compare.assertIdentical("block " + i, blockBefore.get(i), blockAfter.get(i));
        assertFalse(java.util.Arrays.equals(headBefore.get(0), snapshot(net.head).get(0)), "the head trained");
    }

    @Test
    void trainableBatchNormUpdatesItsStatisticsInTrainModeOnly() {
        Net net = new Net();
        Parameter mean = net.stem.parameter("1.running_mean");
        float[] before = mean.value().toFloatArray();
        try (Autograd.NoGrad ignored = Autograd.noGrad()) {
            net.forward(input(), Mode.EVAL);
            Compare.assertIdentical("running mean after EVAL", before, mean.value().toFloatArray());
            net.forward(input(), Mode.TRAIN);
        }
        assertFalse(java.util.Arrays.equals(before, mean.value().toFloatArray()), "TRAIN updates the statistics");
    }

    @Test
    void unfreezingMidRunKeepsTheOptimizerStateOfEarlierParameters() {
        Net net = new Net();
        net.stem.setTrainable(false);
        net.block.setTrainable(false);
        Adam adam = new Adam(net, 1e-2);
        Tensor x = input();
        trainSteps(net, adam, x, 2);
        Parameter headWeight = net.head.parameter("weight");
        Adam.Moments headState = adam.stateOf(headWeight);
        assertEquals(2, headState.step());
        assertNull(adam.stateOf(net.block.parameter("conv3.weight")));

        net.layer("block").setTrainable(true);
        adam.setLearningRate(1e-5);
        trainSteps(net, adam, x, 1);
        assertTrue(adam.stateOf(headWeight) == headState, "same state object, not a fresh one");
        assertEquals(3, headState.step());
        assertNotNull(adam.stateOf(net.block.parameter("conv3.weight")));
        assertEquals(1, adam.stateOf(net.block.parameter("conv3.weight")).step());
        assertNull(adam.stateOf(net.stem.parameter("0.weight")), "the stem is still frozen");
    }

    @Test
    void settingTrainableOnADescendantOverridesItsParent() {
        Net net = new Net();
        net.setTrainable(false);
        net.layer("block.conv3").setTrainable(true);
        assertEquals(List.of("block.conv3.weight"), net.trainableWeights().stream().map(Parameter::path).toList());
    }

    @Test
    void aLayerAddedUnderAFrozenOneIsFrozen() {
        Sequential frozen = new Sequential(new Dense(2, 2));
        frozen.setTrainable(false);
        frozen.append(new Dense(2, 2));
        assertEquals(List.of(), frozen.trainableWeights());
    }
}
