package dev.kiln.cuda;

/** Uncached device memory: the calls a {@link CachingDeviceAllocator} makes underneath (cudaMalloc, cudaFree). */
interface RawDeviceMemory {

    /** The address of {@code bytes} of new device memory, or 0 when the device has not that much free. */
    long malloc(long bytes);

    void free(long address);

    /**
     * Waits until the device has finished all queued work. Called before cached blocks go back to the driver
     * outside a synchronized point: a block released to the cache may still be read by a queued kernel, and
     * cudaFree is only documented to "possibly" synchronize.
     */
    void awaitIdle();
}
