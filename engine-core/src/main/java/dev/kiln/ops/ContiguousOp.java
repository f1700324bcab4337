package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/**
 * A contiguous copy of a strided view (a transpose, a slice), recorded so that the gradient reaches the view.
 * Kernels need contiguous tensors, so every op passes its inputs through here; a contiguous input is returned as
 * it is, at no cost.
 */
public final class ContiguousOp extends Node {

    private ContiguousOp(Tensor x) {
        super(x);
    }

    public static Tensor apply(Tensor x) {
        if (x.isContiguous()) return x;
        Tensor y = x.contiguous();
        return shouldRecord(x) ? new ContiguousOp(x).record(y) : y;
    }

    @Override
    public String name() {
        return "contiguous";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        // Same shape and element order as the view: the gradient is dy itself, handed over as a view.
        return new Tensor[]{dy.detach()};
    }
}
