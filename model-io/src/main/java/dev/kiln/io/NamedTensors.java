package dev.kiln.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * What every reader returns: tensors by name in file order, plus the file's string metadata
 * (safetensors {@code __metadata__}, for example). Not thread-safe while being filled.
 */
public final class NamedTensors {
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a tensor; a name may appear only once. */
    public NamedTensors put(String name, TensorData tensor) {
        if (name == null || tensor == null) {
            throw new IllegalArgumentException("null name or tensor");
        }
        if (tensors.putIfAbsent(name, tensor) != null) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        return this;
    }

    public NamedTensors putMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** The tensor, or an exception listing how many names there are (typos are the usual cause). */
    public TensorData get(String name) {
        TensorData t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException("no tensor '" + name + "' among " + tensors.size() + " tensors");
        }
        return t;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Names in file order. */
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    /** Name to tensor in file order, read-only. */
    public Map<String, TensorData> asMap() {
        return Collections.unmodifiableMap(tensors);
    }

    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    public int size() {
        return tensors.size();
    }

    @Override
    public String toString() {
        return "NamedTensors" + tensors;
    }
}
