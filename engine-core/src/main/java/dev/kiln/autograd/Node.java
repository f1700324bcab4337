package dev.kiln.autograd;

import dev.kiln.tensor.Tensor;

/**
 * One recorded op in the autograd graph: it knows its inputs and how to turn the gradient of its output into
 * gradients of those inputs. Each op is one subclass, with its forward (a static {@code apply}) and its
 * {@link #backward} side by side, and with whatever the backward pass needs saved as explicit final fields.
 *
 * <p>A node is created only when {@link Autograd#isRecording()} and at least one input requires a gradient, so a
 * frozen backbone records nothing and costs a forward pass only.
 */
public abstract class Node {
    private final Tensor[] inputs;

    protected Node(Tensor... inputs) {
        this.inputs = inputs;
    }

    /** The op's name in error messages and graph dumps, such as "conv2d". */
    public abstract String name();

    /** Inputs in the order {@link #backward} returns their gradients; an input may be null (an absent bias). */
    public final Tensor[] inputs() {
        return inputs;
    }

    /** True when input {@code i} wants a gradient, so backward can skip work nobody needs. */
    protected final boolean needsGrad(int i) {
        return inputs[i] != null && inputs[i].requiresGrad();
    }

    /**
     * Gradients of the loss with respect to each input, given the gradient with respect to this node's output.
     * Entries for inputs that do not need a gradient are null. The returned tensors are new tensor objects, which the
     * engine owns and closes; they may be views sharing memory with {@code gradOutput} (an add passes it on), so
     * the engine never writes into one that does not own its storage.
     */
    protected abstract Tensor[] backward(Tensor gradOutput);

    /** True when an op over these inputs must be recorded. */
    public static boolean shouldRecord(Tensor... inputs) {
        if (!Autograd.isRecording()) return false;
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad()) return true;
        }
        return false;
    }

    /** Makes this node the producer of {@code output} and returns the output. */
    public final Tensor record(Tensor output) {
        output.setGradFn(this);
        return output;
    }
}
