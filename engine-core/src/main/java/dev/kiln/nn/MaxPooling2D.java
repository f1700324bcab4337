package dev.kiln.nn;

import dev.kiln.backend.Pool2dSpec;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/** Max pooling over square windows of (N, C, H, W); padding counts as -infinity, {@code ceilMode} as in PyTorch. */
public final class MaxPooling2D extends Layer {
    private final Pool2dSpec spec;

    public MaxPooling2D(int kernel, int stride, int padding, boolean ceilMode) {
        this.spec = new Pool2dSpec(kernel, stride, padding, ceilMode);
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return Ops.maxPool2d(x, spec);
    }
}
