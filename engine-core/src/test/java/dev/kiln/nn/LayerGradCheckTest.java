package dev.kiln.nn;

import dev.kiln.backend.Backend;
import dev.kiln.check.GradCheck;
import dev.kiln.models.Bottleneck;
import dev.kiln.models.Fire;
import dev.kiln.models.ResNetVariant;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.RandomTensors;
import dev.kiln.testing.TestBackends;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Float64 finite-difference checks of every layer with respect to its input and all its trainable weights, on
 * the reference backend. Tolerances: torch.autograd.gradcheck's (eps 1e-6, atol 1e-5, rtol 1e-3). Large weight
 * tensors are sampled (at most 60 elements each) to keep the run short.
 */
class LayerGradCheckTest {
    private final Backend ref = TestBackends.reference();
    private final GradCheck check = new GradCheck(GradCheck.DEFAULT_EPS, GradCheck.DEFAULT_ATOL,
            GradCheck.DEFAULT_RTOL, 60, 3);
    private final RandomTensors random = new RandomTensors(ref, 11);

    private Tensor input(int... dims) {
        return random.leaf(dims);
    }

    /** Randomizes every parameter so that BatchNorm's gamma, beta and statistics are not the trivial 1/0. */
    private void randomize(Layer layer) {
        for (Parameter p : layer.allParameters()) {
            double[] v = new double[(int) p.value().numel()];
            boolean positive = p.name().equals("running_var");
            for (int i = 0; i < v.length; i++) v[i] = positive ? 0.5 + random.nextDouble() : random.nextDouble() - 0.5;
            ref.write(p.value(), v);
        }
    }

    private GradCheck.Result check(Layer layer, Tensor x, Mode mode) {
        layer.to(ref, DType.F64);
        randomize(layer);
        List<Tensor> wrt = new ArrayList<>();
        wrt.add(x);
        for (Parameter p : layer.trainableWeights()) wrt.add(p.value());
        return check.check(() -> layer.forward(x, mode), wrt);
    }

    @Test
    void conv2d() {
        check(new Conv2D(3, 4, 3, 2, 1, true), input(2, 3, 6, 6), Mode.TRAIN);
    }

    @Test
    void batchNormalizationInBothModes() {
        check(new BatchNormalization(3), input(4, 3, 2, 2), Mode.TRAIN);
        check(new BatchNormalization(3), input(4, 3, 2, 2), Mode.EVAL);
    }

    @Test
    void frozenBatchNormalizationPassesGradientToItsInputOnly() {
        BatchNormalization bn = new BatchNormalization(3);
        bn.setTrainable(false);
        GradCheck.Result r = check(bn, input(2, 3, 2, 2), Mode.TRAIN);
        assertEquals(24, r.elementsChecked(), "only the 24 input elements are checked: no trainable weights");
    }

    @Test
    void denseWithActivations() {
        check(new Dense(5, 4, Activation.RELU), input(3, 5), Mode.TRAIN);
        check(new Dense(5, 4, Activation.SOFTMAX), input(3, 5), Mode.TRAIN);
    }

    @Test
    void poolingFlattenDropoutAndSequential() {
        Sequential head = new Sequential(new MaxPooling2D(3, 2, 1, false), new Flatten(), new Dense(2 * 2 * 2, 3));
        check(head, input(2, 2, 4, 4), Mode.TRAIN);
        // Dropout draws a new mask per forward pass in TRAIN mode, which finite differences cannot follow; its
        // op is checked with a fixed mask in OpGradCheckTest, and here as the identity it is in EVAL mode.
        check(new Sequential(new Dropout(0.25, 5), new Dense(3, 2)), input(2, 3), Mode.EVAL);
        check(new Sequential(new GlobalAveragePooling2D(), new Dense(2, 2)), input(2, 2, 3, 3), Mode.TRAIN);
    }

    @Test
    void bottleneckWithDownsampleTorchvision() {
        check(new Bottleneck(4, 2, 2, ResNetVariant.TORCHVISION_V1_5), input(2, 4, 5, 5), Mode.TRAIN);
    }

    @Test
    void bottleneckWithDownsampleKerasInEvalMode() {
        check(new Bottleneck(4, 2, 2, ResNetVariant.KERAS_V1), input(2, 4, 5, 5), Mode.EVAL);
    }

    @Test
    void identityBottleneck() {
        check(new Bottleneck(8, 2, 1, ResNetVariant.TORCHVISION_V1_5), input(2, 8, 3, 3), Mode.TRAIN);
    }

    @Test
    void fireModule() {
        check(new Fire(3, 2, 2, 3), input(1, 3, 4, 4), Mode.TRAIN);
    }
}
