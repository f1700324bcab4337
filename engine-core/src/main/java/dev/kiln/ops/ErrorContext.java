package dev.kiln.ops;

import dev.kiln.tensor.Shape;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * The layer whose forward pass is running on this thread, so that an op deep inside it can say where it failed:
 * {@code conv2d: input has 3 channels, weight expects 64 (layer 'layer1.0.conv1')}. Layers push their path; ops
 * only read it, through {@link #shapeError}.
 */
public final class ErrorContext {
    private static final ThreadLocal<Deque<String>> LAYERS = ThreadLocal.withInitial(ArrayDeque::new);

    private ErrorContext() {
    }

    /** Runs {@code body} with {@code layerPath} as the current layer. */
    public static <T> T inLayer(String layerPath, Supplier<T> body) {
        Deque<String> stack = LAYERS.get();
        stack.push(layerPath);
        try {
            return body.get();
        } finally {
            stack.pop();
        }
    }

    /** The innermost layer's path, or null outside any layer. */
    public static String currentLayer() {
        return LAYERS.get().peek();
    }

    /** An exception for a shape mismatch in {@code op}, naming the current layer if there is one. */
    public static IllegalArgumentException shapeError(String op, String message) {
        String layer = currentLayer();
        String where = layer == null || layer.isEmpty() ? "" : " (layer '" + layer + "')";
        return new IllegalArgumentException(op + ": " + message + where);
    }

    /** Checks that {@code t} has rank {@code rank}; {@code what} names it in the message ("input", "weight"). */
    public static void requireRank(String op, String what, Shape shape, int rank, String layout) {
        if (shape.rank() != rank) {
            throw shapeError(op, "expected " + what + " of rank " + rank + " " + layout + ", got shape " + shape);
        }
    }
}
