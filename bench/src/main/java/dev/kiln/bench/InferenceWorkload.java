package dev.kiln.bench;

import dev.kiln.autograd.Autograd;
import dev.kiln.backend.Backend;
import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

/** ResNet50 with its 1000-class top in evaluation mode, no gradients: {@code with torch.no_grad(): m.eval()(x)}. */
final class InferenceWorkload implements Workload {
    private final ResNet50 model;
    private final Tensor x;
    private final double flops;

    InferenceWorkload(Backend backend, int batch) {
        model = new ResNet50(ResNetVariant.TORCHVISION_V1_5, true, 1000);
        x = Inputs.images(backend, batch, 0);
        flops = batch * new ResNetFlops().inference(1000);
    }

    @Override
    public void step() {
        try (MemoryScope scope = MemoryScope.open(); Autograd.NoGrad noGrad = Autograd.noGrad()) {
            Tensor logits = model.forward(x, Mode.EVAL);
            logits.backend().synchronize();
        }
    }

    @Override
    public double flopsPerStep() {
        return flops;
    }

    @Override
    public void close() {
        x.close();
        Models.free(model);
    }
}
