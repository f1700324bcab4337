package dev.kiln.cuda;

import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link DeviceRuntime} over host memory, for running {@link CudaBackend} without a GPU: "device" addresses are
 * malloc'd host addresses and copies are memcpy. Like a GPU, it runs an asynchronous copy later, not when it is
 * queued: at the next operation that depends on the queue (any other copy, a kernel launch through
 * {@link EmulatedKernelLauncher}, an event wait, a synchronize). So a caller that reuses a staging buffer before its
 * copy has run sends the wrong data, here as on a GPU. Unlike a GPU, it checks every copy and fill against the live
 * allocations, so a wrong size or offset fails at once instead of corrupting memory.
 */
final class HostMemory implements DeviceRuntime {
    /** Live allocations: address to size in bytes. */
    private final TreeMap<Long, Long> live = new TreeMap<>();
    private final TreeMap<Long, Long> pinned = new TreeMap<>();
    /** Asynchronous copies not yet run, in queue order. */
    private final List<QueuedCopy> queue = new ArrayList<>();
    private long events;
    private final boolean offersPinnedMemory;

    HostMemory() {
        this(true);
    }

    /** With {@code offersPinnedMemory} false, every request for pinned memory fails, as on a host short of it. */
    HostMemory(boolean offersPinnedMemory) {
        this.offersPinnedMemory = offersPinnedMemory;
    }

    private record QueuedCopy(long dst, long src, long bytes) {
    }

    /** Runs every queued copy, in order: what a GPU has done by the time later work or a wait starts. */
    synchronized void runQueued() {
        for (QueuedCopy c : queue) Pointer.memcpy(DevicePointers.at(c.dst), DevicePointers.at(c.src), c.bytes);
        queue.clear();
    }

    @Override
    public synchronized long malloc(long bytes) {
        return allocate(live, bytes);
    }

    @Override
    public synchronized void free(long address) {
        runQueued();
        release(live, address, "free");
    }

    @Override
    public void awaitIdle() {
        runQueued();
    }

    @Override
    public synchronized long mallocPinned(long bytes) {
        return offersPinnedMemory ? allocate(pinned, bytes) : 0;
    }

    @Override
    public synchronized void freePinned(long address) {
        for (QueuedCopy c : queue) {
            if (c.src >= address && c.src < address + pinned.getOrDefault(address, 0L)) {
                throw new IllegalStateException("pinned buffer " + hex(address) + " freed while a queued copy still reads it");
            }
        }
        release(pinned, address, "freePinned");
    }

    private static long allocate(TreeMap<Long, Long> blocks, long bytes) {
        long address = Pointer.malloc(bytes).address();
        if (address != 0) blocks.put(address, bytes);
        return address;
    }

    private static void release(TreeMap<Long, Long> blocks, long address, String call) {
        if (blocks.remove(address) == null) throw new IllegalStateException(call + " of " + hex(address) + ", which it did not allocate");
        Pointer.free(DevicePointers.at(address));
    }

    @Override
    public synchronized void copyToDeviceAsync(long deviceAddress, long pinnedHost, long bytes, String context) {
        requireInside(live, deviceAddress, bytes, context);
        requireInside(pinned, pinnedHost, bytes, context + " (pinned source)");
        queue.add(new QueuedCopy(deviceAddress, pinnedHost, bytes));
    }

    @Override
    public synchronized long createEvent() {
        return ++events;
    }

    @Override
    public void recordEvent(long event) {
    }

    @Override
    public void awaitEvent(long event) {
        runQueued();  // everything queued so far, which includes all work before the event
    }

    @Override
    public void destroyEvent(long event) {
    }

    @Override
    public synchronized void copyToDevice(long deviceAddress, Pointer host, long bytes, String context) {
        runQueued();
        requireAllocated(deviceAddress, bytes, context);
        Pointer.memcpy(DevicePointers.at(deviceAddress), host, bytes);
    }

    @Override
    public synchronized void copyToHost(Pointer host, long deviceAddress, long bytes, String context) {
        runQueued();
        requireAllocated(deviceAddress, bytes, context);
        Pointer.memcpy(host, DevicePointers.at(deviceAddress), bytes);
    }

    @Override
    public synchronized void copyOnDevice(long dst, long src, long bytes, String context) {
        runQueued();
        requireAllocated(src, bytes, context);
        requireAllocated(dst, bytes, context);
        Pointer.memcpy(DevicePointers.at(dst), DevicePointers.at(src), bytes);
    }

    @Override
    public synchronized void memset(long dst, int value, long bytes, String context) {
        runQueued();
        requireAllocated(dst, bytes, context);
        Pointer.memset(DevicePointers.at(dst), value, bytes);
    }

    @Override
    public void synchronize(String context) {
        runQueued();
    }

    @Override
    public String name() {
        return "host emulation";
    }

    /** Bytes [address, address + bytes) must lie inside one live allocation. */
    synchronized void requireAllocated(long address, long bytes, String context) {
        requireInside(live, address, bytes, context);
    }

    private static void requireInside(TreeMap<Long, Long> blocks, long address, long bytes, String context) {
        if (bytes == 0) return;
        Map.Entry<Long, Long> block = blocks.floorEntry(address);
        if (block == null || address + bytes > block.getKey() + block.getValue()) {
            throw new IllegalStateException(context + ": " + bytes + " bytes at " + hex(address)
                    + " are not inside one allocation"
                    + (block == null ? "" : " (nearest: " + block.getValue() + " bytes at " + hex(block.getKey()) + ")"));
        }
    }

    synchronized int pinnedAllocations() {
        return pinned.size();
    }

    synchronized int queuedCopies() {
        return queue.size();
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    @Override
    public synchronized void close() {
        runQueued();
        for (long address : live.keySet()) Pointer.free(DevicePointers.at(address));
        for (long address : pinned.keySet()) Pointer.free(DevicePointers.at(address));
        live.clear();
        pinned.clear();
    }
}
