package dev.kiln.bench;

import dev.kiln.autograd.Autograd;
import dev.kiln.backend.Backend;
import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Mode;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

/**
 * A full training step of ResNet50 with a 1000-class top: zero the gradients, forward in TRAIN mode (batch
 * statistics), softmax cross-entropy, backward, Adam (lr 1e-3). The PyTorch script's {@code train_step_fn}.
 */
final class TrainWorkload implements Workload {
    private final ResNet50 model;
    private final Adam optimizer;
    private final Tensor x;
    private final Tensor labels;
    private final double flops;

    TrainWorkload(Backend backend, int batch) {
        model = new ResNet50(ResNetVariant.TORCHVISION_V1_5, true, 1000);
        optimizer = new Adam(model, 1e-3);
        x = Inputs.images(backend, batch, 0);
        labels = Inputs.labels(backend, batch, 1000, 1);
        flops = batch * new ResNetFlops().training(1000);
    }

    @Override
    public void step() {
        try (MemoryScope scope = MemoryScope.open()) {
            model.zeroGrad();
            Tensor loss = Ops.softmaxCrossEntropy(model.forward(x, Mode.TRAIN), labels);
            Autograd.backward(loss);
            optimizer.step();
            loss.backend().synchronize();
        }
    }

    @Override
    public double flopsPerStep() {
        return flops;
    }

    @Override
    public void close() {
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
