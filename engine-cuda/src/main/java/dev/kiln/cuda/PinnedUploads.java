package dev.kiln.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Host-to-device copies through page-locked (pinned) staging buffers, the path of every batch the data loader
 * writes. From ordinary Java memory, {@code cudaMemcpy} first waits for all queued device work and then copies
 * through a driver bounce buffer at a fraction of the bus's speed. From pinned memory the copy is queued
 * ({@code cudaMemcpyAsync}) and the host returns at once, to prepare the next batch while the GPU works.
 *
 * <p>Writes take the {@link #SLOTS} staging buffers in turn. A buffer is refilled only after the copy that last read
 * it has finished (an event recorded behind that copy), so a queued copy never sees the next batch's data. A buffer
 * grows to the largest piece it has served, up to a limit; a larger write goes in pieces, alternating between the
 * buffers, so that filling one overlaps the copy out of the other and pinned memory stays bounded. Where pinned
 * memory cannot be had, a buffer is ordinary host memory and its copies are synchronous.
 */
final class PinnedUploads implements AutoCloseable {
    /**
     * Two: a batch's images and its labels, or one piece of a large write and the next, are queued without the
     * host waiting between them.
     */
    static final int SLOTS = 2;
    /** The most one staging buffer holds: 32 MiB, about a millisecond of PCIe transfer. */
    static final long DEFAULT_SLOT_LIMIT = 32L << 20;
    /** Buffers grow in steps of this, so that slightly different batch sizes reuse one buffer. */
    private static final long GRANULE = 1L << 20;

    private final DeviceRuntime device;
    private final long slotLimit;
    private final Slot[] slots = new Slot[SLOTS];
    private int next;

    /** One staging buffer, and the event behind the last copy out of it (0 before the first). */
    private static final class Slot {
        long address;
        long capacity;
        boolean pinned;
        long event;
    }

    /** Copies {@code n} elements of a Java array, starting at {@code from}, to host memory at {@code address}. */
    @FunctionalInterface
    private interface Fill {
        void copy(long address, int from, int n);
    }

    PinnedUploads(DeviceRuntime device) {
        this(device, DEFAULT_SLOT_LIMIT);
    }

    /** With buffers of at most {@code slotLimit} bytes (a multiple of 1 MiB). */
    PinnedUploads(DeviceRuntime device, long slotLimit) {
        if (slotLimit < GRANULE || slotLimit % GRANULE != 0) {
            throw new IllegalArgumentException("staging buffer limit " + slotLimit + " is not a multiple of 1 MiB");
        }
        this.device = device;
        this.slotLimit = slotLimit;
        for (int i = 0; i < SLOTS; i++) slots[i] = new Slot();
    }

    synchronized void upload(long deviceAddress, float[] data, String context) {
        upload(deviceAddress, data.length, Float.BYTES,
                (address, from, n) -> new FloatPointer(DevicePointers.at(address)).put(data, from, n), context);
    }

    synchronized void upload(long deviceAddress, int[] data, String context) {
        upload(deviceAddress, data.length, Integer.BYTES,
                (address, from, n) -> new IntPointer(DevicePointers.at(address)).put(data, from, n), context);
    }

    private void upload(long deviceAddress, int length, int elementBytes, Fill fill, String context) {
        int perPiece = (int) (slotLimit / elementBytes);
        for (int from = 0; from < length; from += perPiece) {
            int n = Math.min(perPiece, length - from);
            long bytes = (long) n * elementBytes;
            Slot slot = take(bytes);
            fill.copy(slot.address, from, n);
            send(slot, deviceAddress + (long) from * elementBytes, bytes, context);
        }
    }

    /** The next slot, free to refill and at least {@code bytes} large. */
    private Slot take(long bytes) {
        Slot slot = slots[next];
        next = (next + 1) % SLOTS;
        if (slot.event != 0) device.awaitEvent(slot.event);  // the last copy out of this buffer is done
        if (slot.capacity < bytes || slot.address == 0) {
            free(slot);
            long capacity = Math.min(slotLimit, (bytes + GRANULE - 1) / GRANULE * GRANULE);
            slot.address = device.mallocPinned(capacity);
            slot.pinned = slot.address != 0;
            if (!slot.pinned) slot.address = Pointer.malloc(capacity).address();
            if (slot.address == 0) {
                throw new OutOfMemoryError("no host memory for a staging buffer of " + capacity + " bytes");
            }
            slot.capacity = capacity;
        }
        return slot;
    }

    private void send(Slot slot, long deviceAddress, long bytes, String context) {
        if (!slot.pinned) {
            device.copyToDevice(deviceAddress, DevicePointers.at(slot.address), bytes, context);
            return;
        }
        device.copyToDeviceAsync(deviceAddress, slot.address, bytes, context);
        if (slot.event == 0) slot.event = device.createEvent();
        device.recordEvent(slot.event);
    }

    private void free(Slot slot) {
        if (slot.address == 0) return;
        if (slot.pinned) device.freePinned(slot.address);
        else Pointer.free(DevicePointers.at(slot.address));
        slot.address = 0;
        slot.capacity = 0;
    }

    @Override
    public synchronized void close() {
        for (Slot slot : slots) {
            if (slot.event != 0) {
                device.awaitEvent(slot.event);
                device.destroyEvent(slot.event);
                slot.event = 0;
            }
            free(slot);
        }
    }
}
