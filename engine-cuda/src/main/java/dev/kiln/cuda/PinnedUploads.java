package dev.kiln.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

/**
 * Host-to-device copies through page-locked (pinned) staging buffers, the path of every batch the data loader
 * writes. From ordinary Java memory, {@code cudaMemcpy} first waits for all queued device work and then copies
 * through a driver bounce buffer at a fraction of the bus's speed. From pinned memory the copy is queued
 * ({@code cudaMemcpyAsync}) and the host returns at once, to prepare the next batch while the GPU works.
 *
 * <p>Writes take the {@link #SLOTS} staging buffers in turn. A buffer is refilled only after the copy that last read
 * it has finished (an event recorded behind that copy), so a queued copy never sees the next batch's data. Each
 * buffer grows to the largest write it has served. Where pinned memory cannot be had, the write falls back to the
 * synchronous copy.
 */
final class PinnedUploads implements AutoCloseable {
    /** Two: a batch's images and labels, or this batch and the next, without waiting on each other. */
    static final int SLOTS = 2;
    /** Buffers grow in steps of this, so that slightly different batch sizes reuse one buffer. */
    private static final long GRANULE = 1L << 20;

    private final DeviceRuntime device;
    private final Slot[] slots = new Slot[SLOTS];
    private int next;

    /** One staging buffer and the event behind the last copy out of it (0 before the first). */
    private static final class Slot {
        long address;
        long capacity;
        long event;
    }

    PinnedUploads(DeviceRuntime device) {
        this.device = device;
        for (int i = 0; i < SLOTS; i++) slots[i] = new Slot();
    }

    synchronized void upload(long deviceAddress, float[] data, String context) {
        if (data.length == 0) return;
        long bytes = (long) data.length * Float.BYTES;
        Slot slot = take(bytes);
        if (slot == null) {
            try (FloatPointer host = new FloatPointer(data)) {
                device.copyToDevice(deviceAddress, host, bytes, context);
            }
            return;
        }
        new FloatPointer(DevicePointers.at(slot.address)).put(data);
        send(slot, deviceAddress, bytes, context);
    }

    synchronized void upload(long deviceAddress, int[] data, String context) {
        if (data.length == 0) return;
        long bytes = (long) data.length * Integer.BYTES;
        Slot slot = take(bytes);
        if (slot == null) {
            try (IntPointer host = new IntPointer(data)) {
                device.copyToDevice(deviceAddress, host, bytes, context);
            }
            return;
        }
        new IntPointer(DevicePointers.at(slot.address)).put(data);
        send(slot, deviceAddress, bytes, context);
    }

    /** The next slot, free to refill and at least {@code bytes} large; null where no pinned memory is to be had. */
    private Slot take(long bytes) {
        Slot slot = slots[next];
        next = (next + 1) % SLOTS;
        if (slot.event != 0) device.awaitEvent(slot.event);  // the last copy out of this buffer is done
        if (slot.capacity < bytes) {
            if (slot.address != 0) device.freePinned(slot.address);
            long capacity = (bytes + GRANULE - 1) / GRANULE * GRANULE;
            slot.address = device.mallocPinned(capacity);
            slot.capacity = slot.address == 0 ? 0 : capacity;
        }
        return slot.address == 0 ? null : slot;
    }

    private void send(Slot slot, long deviceAddress, long bytes, String context) {
        device.copyToDeviceAsync(deviceAddress, slot.address, bytes, context);
        if (slot.event == 0) slot.event = device.createEvent();
        device.recordEvent(slot.event);
    }

    @Override
    public synchronized void close() {
        for (Slot slot : slots) {
            if (slot.event != 0) {
                device.awaitEvent(slot.event);
                device.destroyEvent(slot.event);
            }
            if (slot.address != 0) device.freePinned(slot.address);
            slot.event = 0;
            slot.address = 0;
            slot.capacity = 0;
        }
    }

    /** Pinned bytes held, for tests and the memory report. */
    synchronized long pinnedBytes() {
        long total = 0;
        for (Slot slot : slots) total += slot.capacity;
        return total;
    }
}
