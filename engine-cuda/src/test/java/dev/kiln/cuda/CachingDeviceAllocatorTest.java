package dev.kiln.cuda;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching logic, on a fake device memory (runs without a GPU). */
class CachingDeviceAllocatorTest {

    /** Hands out fake addresses up to a capacity; 0 when full, like cudaMalloc's out-of-memory. */
    static final class FakeMemory implements RawDeviceMemory {
        final long capacity;
        long used;
        long next = 1 << 20;
        int mallocs;
        /** How many frees happened while the device might still have been running queued work. */
        int freesWithoutAwait;
        boolean idle;
        final Set<Long> live = new HashSet<>();
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();

        FakeMemory(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long malloc(long bytes) {
            if (used + bytes > capacity) return 0;
            used += bytes;
            mallocs++;
            long address = next;
            next += bytes;
            live.add(address);
            sizes.put(address, bytes);
            idle = false;
            return address;
        }

        @Override
        public void free(long address) {
            assertTrue(live.remove(address), "double or foreign free of " + address);
            used -= sizes.remove(address);
            if (!idle) freesWithoutAwait++;
        }

        @Override
        public void awaitIdle() {
            idle = true;
        }
    }

    @Test
    void bucketsWasteAtMostAQuarter() {
        assertEquals(512, CachingDeviceAllocator.bucketSize(1));
        assertEquals(512, CachingDeviceAllocator.bucketSize(512));
        assertEquals(1024, CachingDeviceAllocator.bucketSize(513));
        assertEquals(1 << 20, CachingDeviceAllocator.bucketSize((1 << 19) + 1));
        assertEquals(5L << 18, CachingDeviceAllocator.bucketSize((1 << 20) + 1));  // 1.25 MiB
        for (long bytes = 1; bytes < (1L << 34); bytes = bytes * 3 + 7) {
            long bucket = CachingDeviceAllocator.bucketSize(bytes);
            assertTrue(bucket >= bytes, "bucket " + bucket + " < request " + bytes);
            assertTrue(bucket % 512 == 0, "bucket " + bucket + " is not 512-byte aligned");
            if (bytes > (1 << 20)) assertTrue(bucket <= bytes * 1.25 + 1, "bucket " + bucket + " wastes > 25% of " + bytes);
        }
    }

    @Test
    void aRepeatedStepAllocatesFromTheDriverOnlyOnce() {
        FakeMemory raw = new FakeMemory(1L << 30);
        CachingDeviceAllocator allocator = new CachingDeviceAllocator(raw);
        long[] stepSizes = {4_000, 1_000_000, 77, 3_211_264, 4_000};
        for (int step = 0; step < 5; step++) {
            CachingDeviceAllocator.Block[] blocks = new CachingDeviceAllocator.Block[stepSizes.length];
            for (int i = 0; i < stepSizes.length; i++) blocks[i] = allocator.allocate(stepSizes[i], "test");
            for (CachingDeviceAllocator.Block b : blocks) allocator.release(b);
        }
        assertEquals(stepSizes.length, raw.mallocs, "steps after the first must reuse cached blocks");
        assertEquals(0, allocator.bytesInUse());
        assertTrue(allocator.bytesCached() > 0);
        allocator.close();
        assertEquals(0, raw.used, "close must return every cached block");
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetries() {
        FakeMemory raw = new FakeMemory(4L << 20);
        CachingDeviceAllocator allocator = new CachingDeviceAllocator(raw);
        allocator.release(allocator.allocate(3L << 20, "first"));  // cached, but the wrong size for what follows
        CachingDeviceAllocator.Block b = allocator.allocate(4L << 20, "second");
        assertEquals(4L << 20, b.bytes());
        assertEquals(0, allocator.bytesCached());
        assertEquals(0, raw.freesWithoutAwait, "cached blocks go back to the driver only once the device is idle");
    }

    @Test
    void outOfMemoryNamesTheSizeAndSuggestsASmallerBatch() {
        CachingDeviceAllocator allocator = new CachingDeviceAllocator(new FakeMemory(1L << 20));
        CudaException e = assertThrows(CudaException.class, () -> allocator.allocate(3L << 30, "conv2dForward x(256, 64, 112, 112)"));
        assertTrue(e.isOutOfMemory());
        assertTrue(e instanceof dev.kiln.backend.DeviceMemoryExhausted, "the trainer recognizes it by this interface");
        assertTrue(e.getMessage().contains("3.00 GiB"), e.getMessage());
        assertTrue(e.getMessage().contains("conv2dForward x(256, 64, 112, 112)"), e.getMessage());
        assertTrue(e.getMessage().contains("smaller batch") && e.getMessage().contains("kiln plan"), e.getMessage());
    }
}
