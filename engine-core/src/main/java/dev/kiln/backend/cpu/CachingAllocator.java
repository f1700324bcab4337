package dev.kiln.backend.cpu;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Off-heap memory with a free list. A training step allocates the same sizes every step, and on this VM a fresh
 * page costs a fault, so freed blocks are kept, keyed by size class, and handed out again instead of going back to
 * the C allocator. New blocks are zeroed once, which also pre-touches their pages.
 *
 * <p>Sizes are rounded up to a class at most 12.5% larger (one eighth of a power of two), so slightly different
 * requests share blocks. Every block holds 4-byte elements (F32 and I32 both fit). Thread-safe.
 */
public final class CachingAllocator {
    private static final long MIN_BLOCK_BYTES = 64;

    /** One block of native memory; {@link #pointer} owns it until {@link CachingAllocator#trimCache()} frees it. */
    static final class Block {
        final FloatPointer pointer;
        final long bytes;

        private Block(FloatPointer pointer, long bytes) {
            this.pointer = pointer;
            this.bytes = bytes;
        }
    }

    private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private long inUseBytes;
    private long cachedBytes;
    private long peakBytes;
    private long blocksCreated;

    /** A block with room for at least {@code bytes} bytes, reused from the cache when one of its class is free. */
    synchronized Block acquire(long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<Block> list = free.get(size);
        Block block = list == null ? null : list.pollLast();
        if (block != null) {
            cachedBytes -= size;
        } else {
            block = create(size);
        }
        inUseBytes += size;
        peakBytes = Math.max(peakBytes, inUseBytes);
        return block;
    }

    /** Puts a block back on the free list; its contents are kept as they are. */
    synchronized void release(Block block) {
        inUseBytes -= block.bytes;
        cachedBytes += block.bytes;
        free.computeIfAbsent(block.bytes, k -> new ArrayDeque<>()).addLast(block);
    }

    private Block create(long size) {
        FloatPointer p;
        try {
            p = new FloatPointer(size / Float.BYTES);
        } catch (OutOfMemoryError e) {
            // The cache may hold blocks of other sizes; give them back and try once more.
            trimCache();
            p = new FloatPointer(size / Float.BYTES);
        }
        Pointer.memset(p, 0, size);
        blocksCreated++;
        return new Block(p, size);
    }

    /** Frees every cached (unused) block back to the operating system. */
    public synchronized void trimCache() {
        for (ArrayDeque<Block> list : free.values()) {
            for (Block b : list) b.pointer.close();
        }
        free.clear();
        cachedBytes = 0;
    }

    /** Bytes held by live storages (size-class rounded). */
    public synchronized long allocatedBytes() {
        return inUseBytes;
    }

    /** The highest {@link #allocatedBytes()} seen since creation or the last {@link #resetPeak()}. */
    public synchronized long peakBytes() {
        return peakBytes;
    }

    /** Bytes sitting on the free list, ready for reuse. */
    public synchronized long cachedBytes() {
        return cachedBytes;
    }

    /** How many blocks were obtained from the C allocator (a cache miss each). */
    public synchronized long blocksCreated() {
        return blocksCreated;
    }

    public synchronized void resetPeak() {
        peakBytes = inUseBytes;
    }

    /** Rounds up to a multiple of one eighth of the request's highest power of two (at least 64 bytes). */
    static long sizeClass(long bytes) {
        if (bytes <= MIN_BLOCK_BYTES) return MIN_BLOCK_BYTES;
        long step = Math.max(MIN_BLOCK_BYTES, Long.highestOneBit(bytes) / 8);
        return (bytes + step - 1) / step * step;
    }
}
