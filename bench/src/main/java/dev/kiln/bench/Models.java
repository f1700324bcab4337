package dev.kiln.bench;

import dev.kiln.nn.Layer;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;

/** Frees a model's parameters and gradients, so the next benchmark case starts from the same memory. */
final class Models {
    private Models() {
    }

    static void free(Layer model) {
        for (Parameter p : model.allParameters()) {
            Tensor grad = p.grad();
            if (grad != null) grad.close();
            p.value().close();
        }
    }
}
