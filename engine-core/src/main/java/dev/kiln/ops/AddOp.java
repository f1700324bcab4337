package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/** out = a + b for two tensors of the same shape: the residual connection. The gradient flows to both unchanged. */
public final class AddOp extends Node {

    private AddOp(Tensor a, Tensor b) {
        super(a, b);
    }

    public static Tensor apply(Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw ErrorContext.shapeError("add", "shapes differ: " + a.shape() + " and " + b.shape());
        }
        a = ContiguousOp.apply(a);
        b = ContiguousOp.apply(b);
        Tensor out = Tensor.emptyLike(a);
        a.backend().add(a, b, out);
        return shouldRecord(a, b) ? new AddOp(a, b).record(out) : out;
    }

    @Override
    public String name() {
        return "add";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        // Views, not copies: the engine never writes into a gradient it was handed.
        return new Tensor[]{needsGrad(0) ? dy.detach() : null, needsGrad(1) ? dy.detach() : null};
    }
}
