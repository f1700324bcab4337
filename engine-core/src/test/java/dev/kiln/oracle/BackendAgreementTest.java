package dev.kiln.oracle;

import dev.kiln.autograd.Autograd;
import dev.kiln.backend.Backend;
import dev.kiln.nn.Initializers;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Parameter;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Compare;
import dev.kiln.testing.TestBackends;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

/**
 * One whole training step (forward, loss, backward) of a small network on the backend under test agrees with the
 * float64 reference backend: the loss within 1e-5 and every gradient within 1e-4 of its largest magnitude.
 */
class BackendAgreementTest {

    private static float[] randomInput(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    private static List<float[]> stepGradients(Backend backend, DType dtype, boolean inputRequiresGrad, double[] loss) {
        Initializers.setSeed(5);
        OracleHandlers.TinyNet net = new OracleHandlers.TinyNet();
        net.to(backend, dtype);
        Tensor x = Tensor.of(backend, randomInput(6 * 3 * 12 * 12, 9), 6, 3, 12, 12).to(backend, dtype);
        x.setRequiresGrad(inputRequiresGrad);
        Tensor l = Ops.softmaxCrossEntropy(net.forward(x, Mode.TRAIN), Tensor.ofLabels(backend, new int[]{0, 1, 2, 3, 1, 2}));
        loss[0] = l.item();
        Autograd.backward(l);
        return net.trainableWeights().stream().map(p -> p.grad().toFloatArray()).toList();
    }

    @Test
    void aTrainingStepMatchesTheReferenceBackend() {
        for (boolean inputGrad : new boolean[]{false, true}) {
            double[] lossRef = new double[1], lossUnder = new double[1];
            List<float[]> expected = stepGradients(TestBackends.reference(), DType.F64, inputGrad, lossRef);
            List<float[]> actual = stepGradients(TestBackends.underTest(), DType.F32, inputGrad, lossUnder);
            Compare.assertClose("loss", new float[]{(float) lossRef[0]}, new float[]{(float) lossUnder[0]}, 1e-5);
            List<Parameter> names = new OracleHandlers.TinyNet().trainableWeights();
            for (int i = 0; i < expected.size(); i++) {
                Compare.assertClose("gradient of " + names.get(i).path() + " (input requires grad: " + inputGrad + ")",
                        expected.get(i), actual.get(i), 1e-4);
            }
        }
    }
}
