package dev.kiln.cuda;

/** Uncached device memory: the calls a {@link CachingDeviceAllocator} makes underneath (cudaMalloc, cudaFree). */
interface RawDeviceMemory {

    /** The address of {@code bytes} of new device memory, or 0 when the device has not that much free. */
    long malloc(long bytes);

    void free(long address);
}
