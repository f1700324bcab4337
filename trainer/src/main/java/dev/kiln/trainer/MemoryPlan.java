package dev.kiln.trainer;

import dev.kiln.autograd.Autograd;
import dev.kiln.backend.cpu.CpuBackend;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.model.FineTuneModel;

import java.util.SplittableRandom;

/**
 * Parameter counts and peak training memory of one phase, for {@code kiln plan}. Weights, gradients (trainable
 * weights only) and Adam's two moments are counted exactly; activations are measured by running real training
 * steps with batches of 1 and 2 on the CPU backend and reading its allocator's peak: the difference is the cost of
 * one more image, which scales linearly to the requested batch. Tensor sizes are the same on every backend.
 */
public final class MemoryPlan {
    private MemoryPlan() {
    }

    public record Phase(long trainable, long frozen, long weightBytes, long gradientBytes, long adamBytes,
                        long fixedActivationBytes, long activationBytesPerImage, long workspaceBytes) {

        public long activationBytes(int batch) {
            return fixedActivationBytes + activationBytesPerImage * batch;
        }

        public long peakBytes(int batch) {
            return weightBytes + gradientBytes + adamBytes + activationBytes(batch) + workspaceBytes;
        }
    }

    /**
     * Measures the phase the model is set up for (its trainable flags as they are). {@code model} must live on the
     * CPU backend; its weights' values do not matter.
     */
    public static Phase measure(FineTuneModel model, int imageSize) {
        CpuBackend cpu = CpuBackend.get();
        long all = Layer.count(model.network().allParameters());
        long trainable = Layer.count(model.network().trainableWeights());
        Adam adam = new Adam(model.network(), 0.0); // lr 0: the measurement leaves the weights as they are
        step(model, adam, cpu, 1, imageSize); // creates the gradients and Adam's state, which are not activations
        long p1 = peakOfStep(model, adam, cpu, 1, imageSize);
        long p2 = peakOfStep(model, adam, cpu, 2, imageSize);
        long perImage = Math.max(0, p2 - p1);
        long bytes = DType.F32.bytes();
        return new Phase(trainable, all - trainable, all * bytes, trainable * bytes, 2 * trainable * bytes,
                Math.max(0, p1 - perImage), perImage, cpu.workspaceBytes());
    }

    private static long peakOfStep(FineTuneModel model, Adam adam, CpuBackend cpu, int batch, int imageSize) {
        long before = cpu.allocatedBytes();
        cpu.resetPeakBytes();
        step(model, adam, cpu, batch, imageSize);
        return cpu.peakBytes() - before;
    }

    /** One training step as {@code EpochRunner} takes it: logits, fused softmax cross-entropy, backward, Adam. */
    private static void step(FineTuneModel model, Adam adam, CpuBackend cpu, int batch, int imageSize) {
        float[] pixels = new float[batch * 3 * imageSize * imageSize];
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) rng.nextGaussian();
        int[] labels = new int[batch];
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor x = Tensor.of(cpu, pixels, batch, 3, imageSize, imageSize);
            Tensor loss = Ops.softmaxCrossEntropy(model.logits(x, Mode.TRAIN), Tensor.ofLabels(cpu, labels));
            model.network().zeroGrad();
            Autograd.backward(loss);
            adam.step();
        }
    }
}
