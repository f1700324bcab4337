package dev.kiln.cuda;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The convolution algorithm chosen for each shape, so that cuDNN's search (which runs every candidate, and takes
 * milliseconds) happens once per shape and pass, not once per step.
 */
final class ConvAlgorithmCache {

    enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /**
     * Everything the choice depends on: the pass, the geometry, whether tensor-core math was allowed, and the
     * alignment of the buffers it was timed on (some algorithms need aligned pointers; a view that starts at an
     * offset may not have them).
     */
    record Key(Pass pass, int n, int c, int h, int w, int k, int r, int s, int strideH, int strideW, int padH,
               int padW, boolean tf32, boolean deterministic, int alignment) {
    }

    /** Cap of {@link #alignment}: the caching allocator's blocks are at least this aligned. */
    static final int MAX_ALIGNMENT = 256;

    /** The largest power of two, up to {@link #MAX_ALIGNMENT}, that divides every address. */
    static int alignment(long... addresses) {
        long common = MAX_ALIGNMENT;
        for (long a : addresses) {
            if (a != 0) common = Math.min(common, Long.lowestOneBit(a));
        }
        return (int) common;
    }

    /** cuDNN's algorithm number, the workspace it needs, and the math type it was timed with. */
    record Choice(int algorithm, long workspaceBytes, int mathType) {
    }

    private final Map<Key, Choice> choices = new HashMap<>();

    /** The cached choice for {@code key}, running {@code search} only the first time. */
    synchronized Choice get(Key key, Supplier<Choice> search) {
        Choice choice = choices.get(key);
        if (choice == null) {
            choice = search.get();
            choices.put(key, choice);
        }
        return choice;
    }

    synchronized int size() {
        return choices.size();
    }
}
