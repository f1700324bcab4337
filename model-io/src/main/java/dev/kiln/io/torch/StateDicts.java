package dev.kiln.io.torch;

import dev.kiln.io.pickle.PickleException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Finds the tensors in what a torch.save pickle built: a state_dict maps names to tensors; a checkpoint
 * dict ({"model": state_dict, "epoch": 3}) nests them, and its tensors get dotted names ("model.fc.weight").
 * Values that are not tensors (epoch counters, config strings) are skipped.
 */
final class StateDicts {
    /** Checkpoints nest a few dicts deep at most; the bound keeps the walk's recursion shallow. */
    private static final int MAX_NESTING = 8;

    private StateDicts() {
    }

    static Map<String, TensorRef> tensors(Object root) throws PickleException {
        if (!(root instanceof Map<?, ?> map)) {
            throw new PickleException("the pickle holds " + dev.kiln.io.pickle.Unpickler.describe(root)
                    + ", not a state_dict");
        }
        Map<String, TensorRef> out = new LinkedHashMap<>();
        collect(map, "", 0, out);
        if (out.isEmpty()) {
            throw new PickleException("no tensors found; is this a state_dict?");
        }
        return out;
    }

    private static void collect(Map<?, ?> map, String prefix, int depth, Map<String, TensorRef> out)
            throws PickleException {
        if (depth > MAX_NESTING) {
            throw new PickleException("dicts nested more than " + MAX_NESTING + " deep");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                continue; // integer keys belong to optimizer state, not to weights
            }
            if (e.getValue() instanceof TensorRef t) {
                if (out.putIfAbsent(prefix + key, t) != null) {
                    throw new PickleException("tensor name '" + prefix + key + "' occurs twice");
                }
            } else if (e.getValue() instanceof Map<?, ?> inner) {
                collect(inner, prefix + key + ".", depth + 1, out);
            }
        }
    }
}
