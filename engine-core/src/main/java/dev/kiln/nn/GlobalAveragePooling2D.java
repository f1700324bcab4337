package dev.kiln.nn;

import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/** Mean over H and W: (N, C, H, W) to (N, C), as Keras's layer of the same name. */
public final class GlobalAveragePooling2D extends Layer {
    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return Ops.globalAvgPool(x);
    }
}
