package dev.kiln.nn;

import dev.kiln.autograd.Autograd;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LossesTest {

    @Test
    void aSoftmaxOutputIsScoredFromItsLogits() {
        Tensor logits = Tensor.of(new float[]{50, 0, 0, 0, 3, 1}, 2, 3).setRequiresGrad(true);
        Tensor labels = Tensor.ofLabels(logits.backend(), new int[]{1, 1});
        Tensor fused = Losses.categoricalCrossEntropy(Ops.softmax(logits), labels);
        // Row 0 puts probability exp(-50) on the label: log(p) in float32 would be -inf; the fused form is exact.
        double expected = (50 + Math.log(1 + 2 * Math.exp(-50)) + Math.log(Math.exp(-3) + 1 + Math.exp(-2))) / 2;
        assertEquals(expected, fused.item(), 1e-5);
        Autograd.backward(fused);
        float[] direct = logits.grad().toFloatArray();
        logits.setGrad(null);
        Autograd.backward(Ops.softmaxCrossEntropy(logits, labels));
        assertArrayEquals(logits.grad().toFloatArray(), direct, 1e-7f, "same gradient as on the logits");
    }
}
