package dev.kiln.backend;

/**
 * Marks an exception thrown because a backend's device ran out of memory. Code that knows what asked for the
 * memory (the trainer knows the batch size) can then say what did not fit, without knowing which backend threw.
 */
public interface DeviceMemoryExhausted {
}
