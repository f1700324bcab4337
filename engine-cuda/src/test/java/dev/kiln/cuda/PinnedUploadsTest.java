package dev.kiln.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link PinnedUploads} over {@link HostDevice}, which, like a GPU, runs a queued copy only when the host waits for
 * it, and an event wait only as far as the event: a staging buffer refilled before its copy ran (no wait, the wrong
 * event, an event recorded before the copy) would deliver the wrong data here. Needs no GPU and no native build
 * beyond JavaCPP's.
 */
class PinnedUploadsTest {

    @Test
    void queuedCopiesDeliverEachWriteIntact() {
        try (HostDevice device = new HostDevice(); PinnedUploads uploads = new PinnedUploads(device)) {
            int writes = 3 * PinnedUploads.SLOTS + 1;
            long[] targets = new long[writes];
            float[][] data = new float[writes][];
            for (int i = 0; i < writes; i++) {
                // Every third write outgrows its buffer, which must then be replaced only after its copy ran.
                data[i] = new float[i % 3 == 2 ? 400_000 + i : 100 + i];
                for (int j = 0; j < data[i].length; j++) data[i][j] = i * 1000 + j;
                targets[i] = device.malloc((long) data[i].length * Float.BYTES);
                uploads.upload(targets[i], data[i], "write " + i);
            }
            // Each refill waited only for the copy that last read its buffer: the newest copies are still queued.
            assertEquals(PinnedUploads.SLOTS, device.queuedWork(), "the writes were asynchronous");
            device.runAll();
            for (int i = 0; i < writes; i++) assertArrayEquals(data[i], read(targets[i], data[i].length), "write " + i);
            assertEquals(PinnedUploads.SLOTS, device.pinnedAllocations(),
                    "one pinned buffer per slot, replaced in place");
        }
    }

    @Test
    void aWriteLargerThanABufferGoesInPiecesThroughBoth() {
        long limit = 1L << 20;
        try (HostDevice device = new HostDevice(); PinnedUploads uploads = new PinnedUploads(device, limit)) {
            float[] data = new float[(int) (3.3 * limit / Float.BYTES)];
            for (int i = 0; i < data.length; i++) data[i] = i;
            long target = device.malloc((long) data.length * Float.BYTES);
            uploads.upload(target, data, "a large batch");
            device.runAll();
            assertArrayEquals(data, read(target, data.length));
            assertEquals(PinnedUploads.SLOTS * limit, device.pinnedBytes(), "pinned memory stays within the limit");
            uploads.upload(target, new float[0], "nothing");
            assertEquals(0, device.queuedWork(), "an empty write queues nothing");
        }
    }

    @Test
    void withoutPinnedMemoryWritesAreSynchronous() {
        try (HostDevice device = new HostDevice(false, Long.MAX_VALUE);
             PinnedUploads uploads = new PinnedUploads(device)) {
            long target = device.malloc(3 * Integer.BYTES);
            uploads.upload(target, new int[] {7, -8, 9}, "labels");
            assertEquals(0, device.queuedWork());
            int[] back = new int[3];
            new IntPointer(DevicePointers.at(target)).get(back);
            assertArrayEquals(new int[] {7, -8, 9}, back);
        }
    }

    private static float[] read(long address, int n) {
        float[] out = new float[n];
        new FloatPointer(DevicePointers.at(address)).get(out);
        return out;
    }
}
