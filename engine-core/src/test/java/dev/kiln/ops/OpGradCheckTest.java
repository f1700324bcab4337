package dev.kiln.ops;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.check.GradCheck;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.RandomTensors;
import dev.kiln.testing.TestBackends;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A float64 central-difference gradient check of every op, on the reference backend, with
 * torch.autograd.gradcheck's tolerances (eps 1e-6, atol 1e-5, rtol 1e-3).
 */
class OpGradCheckTest {
    private final Backend ref = TestBackends.reference();
    private final GradCheck check = new GradCheck();
    private final RandomTensors random = new RandomTensors(ref, 7);

    private Tensor input(int... dims) {
        return random.leaf(dims);
    }

    private void passes(Supplier<Tensor> f, Tensor... wrt) {
        GradCheck.Result r = check.check(f, List.of(wrt));
        assertTrue(r.elementsChecked() > 0);
    }

    @Test
    void conv2dWithBiasStrideAndPadding() {
        Tensor x = input(2, 3, 7, 6), w = input(4, 3, 3, 3), b = input(4);
        passes(() -> Ops.conv2d(x, w, b, new Conv2dSpec(2, 1, 1, 0)), x, w, b);
    }

    @Test
    void conv2dPointwiseAndLargeKernel() {
        Tensor x = input(1, 2, 9, 9), w1 = input(3, 2, 1, 1), w7 = input(2, 2, 7, 7);
        passes(() -> Ops.conv2d(x, w1, null, Conv2dSpec.of(2, 0)), x, w1);
        passes(() -> Ops.conv2d(x, w7, null, Conv2dSpec.of(2, 3)), x, w7);
    }

    @Test
    void batchNormTraining() {
        Tensor x = input(3, 2, 3, 3), g = input(2), b = input(2);
        passes(() -> Ops.batchNormTraining(x, g, b, null, null, 0.1, 1e-5), x, g, b);
    }

    @Test
    void batchNormInference() {
        Tensor x = input(2, 3, 2, 2), g = input(3), b = input(3);
        Tensor mean = Tensor.of(ref, new double[]{0.1, -0.2, 0.3}, 3);
        Tensor var = Tensor.of(ref, new double[]{0.5, 1.5, 2.0}, 3);
        passes(() -> Ops.batchNormInference(x, g, b, mean, var, 1e-5), x, g, b);
    }

    @Test
    void reluAwayFromTheKink() {
        Tensor x = input(4, 5);
        double[] v = x.toDoubleArray();
        for (int i = 0; i < v.length; i++) if (Math.abs(v[i]) < 0.05) v[i] = 0.5; // finite differences need no kink
        ref.write(x, v);
        passes(() -> Ops.relu(x), x);
    }

    @Test
    void add() {
        Tensor a = input(2, 3), b = input(2, 3);
        passes(() -> Ops.add(a, b), a, b);
    }

    @Test
    void sameTensorOnBothSidesOfAnAddAccumulates() {
        Tensor a = input(3, 2);
        passes(() -> Ops.add(a, a), a);
    }

    @Test
    void maxPoolWithPaddingAndCeilMode() {
        Tensor x = input(2, 2, 7, 7);
        passes(() -> Ops.maxPool2d(x, new Pool2dSpec(3, 2, 1, false)), x);
        passes(() -> Ops.maxPool2d(x, new Pool2dSpec(3, 2, 0, true)), x);
    }

    @Test
    void globalAveragePool() {
        Tensor x = input(2, 3, 4, 5);
        passes(() -> Ops.globalAvgPool(x), x);
    }

    @Test
    void flattenAndReshape() {
        Tensor x = input(2, 3, 2, 2);
        passes(() -> Ops.flatten(x), x);
        passes(() -> Ops.reshape(x, 4, 6), x);
    }

    @Test
    void concatAlongChannels() {
        Tensor a = input(2, 3, 2, 2), b = input(2, 1, 2, 2);
        passes(() -> Ops.concat(1, a, b), a, b);
    }

    @Test
    void linear() {
        Tensor x = input(3, 5), w = input(4, 5), b = input(4);
        passes(() -> Ops.linear(x, w, b), x, w, b);
    }

    @Test
    void dropoutWithAFixedMask() {
        Tensor x = input(4, 6);
        passes(() -> Ops.dropout(x, 0.3, 42), x);
    }

    @Test
    void softmax() {
        Tensor x = input(3, 4);
        passes(() -> Ops.softmax(x), x);
    }

    @Test
    void softmaxCrossEntropyWithIndicesAndOneHot() {
        Tensor logits = input(4, 5);
        Tensor labels = Tensor.ofLabels(ref, new int[]{0, 4, 2, 2});
        passes(() -> Ops.softmaxCrossEntropy(logits, labels), logits);
        double[] oneHot = new double[20];
        oneHot[1] = oneHot[5 + 3] = oneHot[10] = oneHot[15 + 4] = 1;
        Tensor targets = Tensor.of(ref, oneHot, 4, 5);
        passes(() -> Ops.softmaxCrossEntropy(logits, targets), logits);
    }

    /** y = x, with a backward pass that is wrong on purpose: it doubles the gradient. */
    private static final class WrongIdentity extends dev.kiln.autograd.Node {
        WrongIdentity(Tensor x) {
            super(x);
        }

        static Tensor apply(Tensor x) {
            Tensor y = Tensor.emptyLike(x);
            x.backend().copy(x, y);
            return new WrongIdentity(x).record(y);
        }

        @Override
        public String name() {
            return "wrong_identity";
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            Tensor dx = Tensor.emptyLike(dy);
            dy.backend().scale(dy, 2.0, dx);
            return new Tensor[]{dx};
        }
    }

    @Test
    void aWrongGradientIsCaught() {
        Tensor x = input(3, 3);
        assertThrows(GradCheck.Failure.class, () -> check.check(() -> WrongIdentity.apply(x), List.of(x)));
    }
}
