package dev.kiln.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Device memory with free lists per size bucket, so that a training step, which allocates the same sizes every
 * time, reuses blocks instead of calling {@code cudaMalloc} (slow, and synchronizing) each step.
 *
 * <p>Sizes are rounded up to a bucket: powers of two up to 1 MiB (at least 512 bytes), then four buckets per power
 * of two, which wastes at most 25%. A released block goes back to its bucket's free list at once; memory returns
 * to the driver only when an allocation fails (the cache is emptied and the allocation retried) or on
 * {@link #emptyCache()}.
 *
 * <p>Reuse is safe without events because the backend issues all work on one stream: a kernel that uses a reused
 * block is queued after every kernel that used it before.
 */
final class CachingDeviceAllocator implements AutoCloseable {
    private static final long MIN_BLOCK = 512;
    private static final long SMALL_LIMIT = 1L << 20;

    /** A block of device memory: its address and its (bucket) size in bytes. */
    record Block(long address, long bytes) {
    }

    private final RawDeviceMemory raw;
    private final Map<Long, ArrayDeque<Long>> freeLists = new HashMap<>();
    private long bytesInUse;
    private long bytesCached;
    private long peakBytesInUse;
    private long rawAllocations;

    CachingDeviceAllocator(RawDeviceMemory raw) {
        this.raw = raw;
    }

    /** The bucket that a request of {@code bytes} is served from. */
    static long bucketSize(long bytes) {
        if (bytes <= MIN_BLOCK) return MIN_BLOCK;
        if (bytes <= SMALL_LIMIT) return Long.highestOneBit(bytes - 1) << 1;
        long power = Long.highestOneBit(bytes);
        if (power == bytes) return bytes;
        long step = power / 4;
        return (bytes + step - 1) / step * step;
    }

    /** A block of at least {@code bytes}; {@code context} names the op for the out-of-memory message. */
    synchronized Block allocate(long bytes, String context) {
        long size = bucketSize(bytes);
        ArrayDeque<Long> list = freeLists.get(size);
        long address;
        if (list != null && !list.isEmpty()) {
            address = list.pop();
            bytesCached -= size;
        } else {
            address = raw.malloc(size);
            if (address == 0 && bytesCached > 0) {
                // The free lists hold memory of other sizes: give it all back to the driver and try once more,
                // once queued kernels can no longer touch it.
                raw.awaitIdle();
                emptyCache();
                address = raw.malloc(size);
            }
            if (address == 0) {
                throw CudaStatus.outOfMemory("cudaMalloc", "cudaErrorMemoryAllocation", size,
                        context + "; " + CudaStatus.formatBytes(bytesInUse) + " already in use by Kiln");
            }
            rawAllocations++;
        }
        bytesInUse += size;
        peakBytesInUse = Math.max(peakBytesInUse, bytesInUse);
        return new Block(address, size);
    }

    /** Puts {@code block} back on its free list. Each block must be released exactly once. */
    synchronized void release(Block block) {
        freeLists.computeIfAbsent(block.bytes(), k -> new ArrayDeque<>()).push(block.address());
        bytesInUse -= block.bytes();
        bytesCached += block.bytes();
    }

    /** Returns every cached (free) block to the driver. Blocks in use are untouched. */
    synchronized void emptyCache() {
        for (Map.Entry<Long, ArrayDeque<Long>> bucket : freeLists.entrySet()) {
            ArrayDeque<Long> list = bucket.getValue();
            // Off the list before it goes back, so that a failing free leaves no freed block to hand out again.
            while (!list.isEmpty()) {
                long address = list.pop();
                bytesCached -= bucket.getKey();
                raw.free(address);
            }
        }
        freeLists.clear();
    }

    synchronized long bytesInUse() {
        return bytesInUse;
    }

    synchronized long bytesCached() {
        return bytesCached;
    }

    synchronized long peakBytesInUse() {
        return peakBytesInUse;
    }

    /** How many times the driver was asked for memory: flat after the first training step. */
    synchronized long rawAllocations() {
        return rawAllocations;
    }

    @Override
    public void close() {
        emptyCache();
    }
}
