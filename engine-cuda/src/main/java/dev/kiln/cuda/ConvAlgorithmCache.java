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

    /** Everything the choice depends on: the pass, the geometry, and whether tensor-core math was allowed. */
    record Key(Pass pass, int n, int c, int h, int w, int k, int r, int s, int strideH, int strideW, int padH,
               int padW, boolean tf32, boolean deterministic) {
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
