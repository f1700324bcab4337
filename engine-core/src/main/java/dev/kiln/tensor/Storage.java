package dev.kiln.tensor;

import dev.kiln.backend.Backend;

/**
 * A block of memory owned by one backend: host memory for the CPU, device memory for CUDA, a Java array for the
 * reference backend. Several tensors (views) may share one storage, so it is reference-counted; when the last
 * holder releases it, the backend gets the memory back at once instead of waiting for the garbage collector.
 */
public abstract class Storage {
    private final Backend backend;
    private final DType dtype;
    private final long numel;
    private int references = 1;

    protected Storage(Backend backend, DType dtype, long numel) {
        this.backend = backend;
        this.dtype = dtype;
        this.numel = numel;
    }

    public Backend backend() {
        return backend;
    }

    public DType dtype() {
        return dtype;
    }

    /** Capacity in elements. */
    public long numel() {
        return numel;
    }

    public synchronized boolean isReleased() {
        return references == 0;
    }

    /** How many views hold this storage. */
    synchronized int references() {
        return references;
    }

    synchronized void retain() {
        if (references == 0) throw new IllegalStateException("storage was already freed");
        references++;
    }

    synchronized void release() {
        if (references == 0) return;
        if (--references == 0) free();
    }

    /** Returns the memory to the backend. Called exactly once, when the last reference is released. */
    protected abstract void free();
}
