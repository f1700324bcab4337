package dev.kiln.autograd;

import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation over the graph of {@link Node}s.
 *
 * <p>Invariant: gradients of leaves (parameters) <em>accumulate</em> into {@link Tensor#grad()}, across every path
 * in one pass and across passes, until {@code Layer.zeroGrad()} drops them (PyTorch's {@code set_to_none}). The
 * first gradient to reach a leaf with no gradient becomes its gradient without a copy when it owns its memory
 * ({@link Tensor#ownsStorage()}); a view that shares memory with another gradient is copied. Intermediate
 * gradients are freed as soon as the node that consumes them has run.
 */
public final class Autograd {
    private static final ThreadLocal<Integer> NO_GRAD_DEPTH = ThreadLocal.withInitial(() -> 0);

    private Autograd() {
    }

    /** Whether ops record nodes on this thread (false inside {@link #noGrad()}). */
    public static boolean isRecording() {
        return NO_GRAD_DEPTH.get() == 0;
    }

    /** Disables recording until the returned handle is closed, as {@code torch.no_grad()}. */
    public static NoGrad noGrad() {
        NO_GRAD_DEPTH.set(NO_GRAD_DEPTH.get() + 1);
        return new NoGrad();
    }

    /** The handle of {@link #noGrad()}; closing it restores recording. */
    public static final class NoGrad implements AutoCloseable {
        private boolean closed;

        private NoGrad() {
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            NO_GRAD_DEPTH.set(NO_GRAD_DEPTH.get() - 1);
        }
    }

    /**
     * Back-propagates from a one-element {@code loss} with seed gradient 1.
     *
     * @return how many nodes ran, so tests can prove that frozen layers cost nothing here
     */
    public static int backward(Tensor loss) {
        if (loss.numel() != 1) {
            throw new IllegalArgumentException("backward: loss must have one element, got shape " + loss.shape());
        }
        try (Tensor seed = Tensor.empty(loss.backend(), loss.dtype(), loss.shape())) {
            loss.backend().fill(seed, 1.0);
            return backward(loss, seed);
        }
    }

    /** Back-propagates {@code gradOutput}, the gradient of some scalar with respect to {@code output}. */
    public static int backward(Tensor output, Tensor gradOutput) {
        if (!output.shape().equals(gradOutput.shape())) {
            throw new IllegalArgumentException("backward: gradient shape " + gradOutput.shape()
                    + " differs from output shape " + output.shape());
        }
        if (!output.requiresGrad()) {
            throw new IllegalStateException("backward: the output does not depend on any trainable parameter");
        }
        if (output.gradFn() == null) {
            accumulateIntoLeaf(output, gradOutput.detach());
            return 0;
        }
        List<Node> order = topologicalOrder(output.gradFn());
        Map<Node, Tensor> pending = new IdentityHashMap<>();
        pending.put(output.gradFn(), gradOutput);
        int ran = 0;
        for (Node node : order) {
            Tensor grad = pending.remove(node);
            if (grad == null) continue; // no path from the output reached this node
            Tensor[] inputGrads = node.backward(grad);
            if (grad != gradOutput) grad.close();
            ran++;
            Tensor[] inputs = node.inputs();
            for (int i = 0; i < inputs.length; i++) {
                Tensor in = inputs[i];
                Tensor g = inputGrads[i];
                if (g == null) continue;
                if (in == null || !in.requiresGrad()) {
                    g.close();
                } else if (in.gradFn() == null) {
                    accumulateIntoLeaf(in, g);
                } else {
                    pending.merge(in.gradFn(), g, Autograd::sum);
                }
            }
        }
        return ran;
    }

    /** Adds {@code g} into the leaf's gradient, taking ownership of {@code g}. */
    private static void accumulateIntoLeaf(Tensor leaf, Tensor g) {
        Tensor existing = leaf.grad();
        if (existing != null && !existing.isClosed()) {
            leaf.backend().axpy(1.0, g, existing);
            g.close();
        } else if (g.ownsStorage()) {
            // Parameter gradients outlive the step's memory scope, and this one is nobody else's: adopt it.
            leaf.setGrad(MemoryScope.untrack(g));
        } else {
            Tensor copy = MemoryScope.outside(() -> Tensor.emptyLike(leaf));
            leaf.backend().copy(g, copy);
            leaf.setGrad(copy);
            g.close();
        }
    }

    /**
     * Two gradients for the same tensor, summed. In place when the first owns its memory; otherwise (a view that
     * another gradient shares, as an add's backward hands out) into a new tensor, so the other is left intact.
     */
    private static Tensor sum(Tensor previous, Tensor g) {
        if (previous.ownsStorage()) {
            previous.backend().axpy(1.0, g, previous);
            g.close();
            return previous;
        }
        Tensor total = Tensor.emptyLike(previous);
        previous.backend().add(previous, g, total);
        previous.close();
        g.close();
        return total;
    }

    /**
     * Nodes ordered so that every node comes before the nodes that produced its inputs (outputs first). Iterative
     * depth-first search, because ResNet50's graph is deeper than a comfortable Java call stack.
     */
    static List<Node> topologicalOrder(Node root) {
        List<Node> postOrder = new ArrayList<>();
        Set<Node> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Object[]> stack = new ArrayDeque<>(); // {node, index of the next input to visit}
        stack.push(new Object[]{root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Node node = (Node) frame[0];
            int next = (Integer) frame[1];
            Tensor[] inputs = node.inputs();
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor in = inputs[next];
                if (in != null && in.gradFn() != null && visited.add(in.gradFn())) {
                    stack.push(new Object[]{in.gradFn(), 0});
                }
            } else {
                stack.pop();
                postOrder.add(node);
            }
        }
        Collections.reverse(postOrder);
        return postOrder;
    }
}
