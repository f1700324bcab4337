package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/** Concatenation along one dimension (channels, for SqueezeNet's fire modules). Backward slices dy apart again. */
public final class ConcatOp extends Node {
    private final int dim;
    private final int[] sizes;

    private ConcatOp(Tensor[] parts, int dim) {
        super(parts);
        this.dim = dim;
        this.sizes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) sizes[i] = parts[i].dim(dim);
    }

    public static Tensor apply(int dim, Tensor... parts) {
        if (parts.length == 0) throw new IllegalArgumentException("concat: no tensors given");
        Shape first = parts[0].shape();
        int d = dim < 0 ? first.rank() + dim : dim;
        int total = 0;
        for (Tensor t : parts) {
            if (t.rank() != first.rank() || !t.shape().withDim(d, 0).equals(first.withDim(d, 0))) {
                throw ErrorContext.shapeError("concat", "shapes " + first + " and " + t.shape()
                        + " differ outside dimension " + d);
            }
            total += t.dim(d);
        }
        Tensor out = Tensor.empty(parts[0].backend(), parts[0].dtype(), first.withDim(d, total));
        int offset = 0;
        for (Tensor t : parts) {
            try (Tensor slot = out.narrow(d, offset, t.dim(d))) {
                t.backend().copy(t, slot);
            }
            offset += t.dim(d);
        }
        return shouldRecord(parts) ? new ConcatOp(parts, d).record(out) : out;
    }

    @Override
    public String name() {
        return "concat";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor[] grads = new Tensor[sizes.length];
        int offset = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (needsGrad(i)) {
                try (Tensor slice = dy.narrow(dim, offset, sizes[i])) {
                    grads[i] = Tensor.empty(dy.backend(), dy.dtype(), slice.shape());
                    dy.backend().copy(slice, grads[i]);
                }
            }
            offset += sizes[i];
        }
        return grads;
    }
}
