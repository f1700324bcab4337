package dev.kiln.nn;

import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/** (N, C, H, W) to (N, C·H·W), channel-major as in PyTorch (element c·H·W + h·W + w). */
public final class Flatten extends Layer {
    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return Ops.flatten(x);
    }
}
