package dev.kiln.bench;

import dev.kiln.autograd.Autograd;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

/**
 * The timed unit of the training cases: zero the gradients, forward in {@code mode}, softmax cross-entropy,
 * backward, one Adam step, and wait for the backend. What differs between cases is the model, which weights are
 * trainable, the mode and the learning rate.
 */
class TrainingStepWorkload implements Workload {
    private final Layer model;
    private final Adam optimizer;
    private final Mode mode;
    private final Tensor x;
    private final Tensor labels;
    private final double flops;

    TrainingStepWorkload(Layer model, Adam optimizer, Mode mode, Tensor x, Tensor labels, double flops) {
        this.model = model;
        this.optimizer = optimizer;
        this.mode = mode;
        this.x = x;
        this.labels = labels;
        this.flops = flops;
    }

    @Override
    public final void step() {
        try (MemoryScope scope = MemoryScope.open()) {
            model.zeroGrad();
            Tensor loss = Ops.softmaxCrossEntropy(model.forward(x, mode), labels);
            Autograd.backward(loss);
            optimizer.step();
            loss.backend().synchronize();
        }
    }

    @Override
    public final double flopsPerStep() {
        return flops;
    }

    @Override
    public final void close() {
        x.close();
        labels.close();
        try {
            optimizer.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        Models.free(model);
    }
}
