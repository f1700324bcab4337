package dev.kiln.tensor;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Frees every tensor created inside it when it closes, so a training step's activations and gradients go back to
 * the backend deterministically instead of waiting for the garbage collector (off-heap and device memory are
 * invisible to it).
 *
 * <pre>{@code
 * try (MemoryScope step = MemoryScope.open()) {
 *     Tensor loss = model.forward(x, Mode.TRAIN) ...;
 *     lossValue = loss.item();
 * }   // every intermediate tensor is freed here
 * }</pre>
 *
 * Tensors that must outlive the scope (parameter gradients, optimizer state) are created inside
 * {@link #outside(Supplier)}. Scopes nest per thread.
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<Deque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    /** Identity set: removal ({@link #untrack}, once per parameter gradient each step) must not scan a list. */
    private final Set<Tensor> tensors = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;

    private MemoryScope() {
    }

    public static MemoryScope open() {
        MemoryScope scope = new MemoryScope();
        STACK.get().push(scope);
        return scope;
    }

    static void track(Tensor tensor) {
        MemoryScope current = STACK.get().peek();
        if (current != null) current.tensors.add(tensor);
    }

    /** Runs {@code body} with no scope active, so the tensors it creates live until closed explicitly. */
    public static <T> T outside(Supplier<T> body) {
        Deque<MemoryScope> stack = STACK.get();
        Deque<MemoryScope> saved = new ArrayDeque<>(stack);
        stack.clear();
        try {
            return body.get();
        } finally {
            stack.addAll(saved);
        }
    }

    /** Removes {@code tensor} from whichever open scope on this thread tracks it; the caller now owns it. */
    public static Tensor untrack(Tensor tensor) {
        for (MemoryScope scope : STACK.get()) {
            if (scope.tensors.remove(tensor)) break;
        }
        return tensor;
    }

    /** Keeps {@code tensor} alive past this scope; the caller now owns it. */
    public Tensor keep(Tensor tensor) {
        tensors.remove(tensor);
        return tensor;
    }

    @Override
    public void close() {
        if (closed) return;
        Deque<MemoryScope> stack = STACK.get();
        if (stack.peek() != this) throw new IllegalStateException("memory scopes closed out of order");
        closed = true;
        stack.pop();
        RuntimeException first = null;
        for (Tensor t : tensors) {
            try {
                t.close();
            } catch (RuntimeException e) { // free the rest anyway, report the first failure
                if (first == null) first = e;
            }
        }
        tensors.clear();
        if (first != null) throw first;
    }
}
