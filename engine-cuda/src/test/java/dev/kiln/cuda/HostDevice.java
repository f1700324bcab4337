package dev.kiln.cuda;

import org.bytedeco.javacpp.Pointer;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link DeviceRuntime} on the host, for running {@link CudaBackend} without a GPU. "Device" addresses are
 * malloc'd host addresses, and the device's one stream is a queue: asynchronous copies, fills, kernel launches
 * ({@link EmulatedKernelLauncher}) and library calls ({@link CpuLibraries}) are queued and run in order only when
 * the host must wait for them: a copy from or to pageable host memory, a synchronize, or an event wait (which runs
 * the queue up to where the event was recorded, no further). So a caller that refills a staging buffer before the
 * copy out of it has run, or waits on the wrong event, sends the wrong data here as it would on a GPU; and freeing
 * memory while work is queued fails.
 *
 * <p>Unlike a GPU, it checks every copy and fill against the live allocations, so a wrong size or offset fails at
 * once instead of corrupting memory.
 */
final class HostDevice implements DeviceRuntime {
    /** Live allocations, address to size in bytes. */
    private final TreeMap<Long, Long> live = new TreeMap<>();
    private final TreeMap<Long, Long> pinned = new TreeMap<>();
    /** Queued work not yet run, in order. */
    private final ArrayDeque<Work> queue = new ArrayDeque<>();
    /** How many pieces of work have been queued, and how many of them have run. */
    private long queued;
    private long done;
    /** Each live event's position: the queue count when it was last recorded (0 before that). */
    private final Map<Long, Long> events = new HashMap<>();
    private long nextEvent = 1;
    private final boolean offersPinnedMemory;
    private final long capacity;
    private long allocated;

    /** One piece of queued work; {@code pinnedSource} is the pinned address it reads, or 0. */
    private record Work(String what, Runnable run, long pinnedSource) {
    }

    HostDevice() {
        this(true, Long.MAX_VALUE);
    }

    /**
     * A device of {@code capacity} bytes, beyond which malloc fails as cudaMalloc does on a full GPU. With
     * {@code offersPinnedMemory} false, every request for pinned memory fails, as on a host short of it.
     */
    HostDevice(boolean offersPinnedMemory, long capacity) {
        this.offersPinnedMemory = offersPinnedMemory;
        this.capacity = capacity;
    }

    // ------------------------------------------------------------------ the stream

    /** Queues {@code run} behind all work queued so far; {@code what} names it if it fails. */
    synchronized void enqueue(String what, Runnable run) {
        enqueue(new Work(what, run, 0));
    }

    private void enqueue(Work work) {
        queue.addLast(work);
        queued++;
    }

    /** Runs all queued work: what a GPU has done by the time the host's wait returns. */
    synchronized void runAll() {
        runUntil(queued);
    }

    private void runUntil(long position) {
        while (done < position) {
            Work work = queue.removeFirst();
            done++;
            try {
                work.run().run();
            } catch (RuntimeException e) {
                queue.clear();
                done = queued;
                throw new IllegalStateException(work.what() + " (queued earlier) failed: " + e.getMessage(), e);
            }
        }
    }

    synchronized int queuedWork() {
        return queue.size();
    }

    @Override
    public synchronized long createEvent() {
        long event = nextEvent++;
        events.put(event, 0L);
        return event;
    }

    @Override
    public synchronized void recordEvent(long event) {
        requireEvent(event);
        events.put(event, queued);
    }

    @Override
    public synchronized void awaitEvent(long event) {
        requireEvent(event);
        runUntil(events.get(event));
    }

    @Override
    public synchronized void destroyEvent(long event) {
        requireEvent(event);
        events.remove(event);
    }

    private void requireEvent(long event) {
        if (!events.containsKey(event)) {
            throw new IllegalStateException("event " + event + " was never created, or was destroyed");
        }
    }

    @Override
    public void synchronize(String context) {
        runAll();
    }

    @Override
    public void awaitIdle() {
        runAll();
    }

    // ------------------------------------------------------------------ memory

    @Override
    public synchronized long malloc(long bytes) {
        if (bytes > capacity - allocated) return 0;
        long address = allocate(live, bytes);
        if (address != 0) allocated += bytes;
        return address;
    }

    /**
     * Refuses to free memory that queued work may still use. cudaFree is only documented to "possibly" wait for
     * the device, so the caller must have waited ({@link RawDeviceMemory#awaitIdle}, a synchronize) first.
     */
    @Override
    public synchronized void free(long address) {
        if (!queue.isEmpty()) {
            throw new IllegalStateException("free of " + hex(address) + " while " + queue.size()
                    + " pieces of work are queued (the first: " + queue.peekFirst().what()
                    + "); wait for the device first");
        }
        Long bytes = live.get(address);
        release(live, address, "free");
        allocated -= bytes;
    }

    @Override
    public synchronized long mallocPinned(long bytes) {
        return offersPinnedMemory ? allocate(pinned, bytes) : 0;
    }

    @Override
    public synchronized void freePinned(long address) {
        for (Work work : queue) {
            if (work.pinnedSource() != 0 && pinned.floorKey(work.pinnedSource()) == address) {
                throw new IllegalStateException("pinned buffer " + hex(address) + " freed while " + work.what()
                        + " still reads it");
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
        if (blocks.remove(address) == null) {
            throw new IllegalStateException(call + " of " + hex(address) + ", which it did not allocate");
        }
        Pointer.free(DevicePointers.at(address));
    }

    synchronized int pinnedAllocations() {
        return pinned.size();
    }

    synchronized long pinnedBytes() {
        return pinned.values().stream().mapToLong(Long::longValue).sum();
    }

    // ------------------------------------------------------------------ copies

    @Override
    public synchronized void copyToDeviceAsync(long deviceAddress, long pinnedHost, long bytes, String context) {
        requireInside(live, deviceAddress, bytes, context);
        requireInside(pinned, pinnedHost, bytes, context + " (pinned source)");
        enqueue(new Work("copy " + context, () -> Pointer.memcpy(DevicePointers.at(deviceAddress),
                DevicePointers.at(pinnedHost), bytes), pinnedHost));
    }

    /** As cudaMemcpy from pageable memory: after all queued work, and done when it returns. */
    @Override
    public synchronized void copyToDevice(long deviceAddress, Pointer host, long bytes, String context) {
        runAll();
        requireInside(live, deviceAddress, bytes, context);
        Pointer.memcpy(DevicePointers.at(deviceAddress), host, bytes);
    }

    @Override
    public synchronized void copyToHost(Pointer host, long deviceAddress, long bytes, String context) {
        runAll();
        requireInside(live, deviceAddress, bytes, context);
        Pointer.memcpy(host, DevicePointers.at(deviceAddress), bytes);
    }

    @Override
    public synchronized void copyOnDevice(long dst, long src, long bytes, String context) {
        requireInside(live, src, bytes, context);
        requireInside(live, dst, bytes, context);
        enqueue("copy " + context, () -> Pointer.memcpy(DevicePointers.at(dst), DevicePointers.at(src), bytes));
    }

    @Override
    public synchronized void memset(long dst, int value, long bytes, String context) {
        requireInside(live, dst, bytes, context);
        enqueue("memset " + context, () -> Pointer.memset(DevicePointers.at(dst), value, bytes));
    }

    /** Bytes [address, address + bytes) must lie inside one live allocation. */
    synchronized void requireAllocated(long address, long bytes, String context) {
        requireInside(live, address, bytes, context);
    }

    private static void requireInside(TreeMap<Long, Long> blocks, long address, long bytes, String context) {
        if (bytes == 0) return;
        Map.Entry<Long, Long> block = blocks.floorEntry(address);
        if (block == null || address + bytes > block.getKey() + block.getValue()) {
            String nearest = block == null ? ""
                    : " (nearest: " + block.getValue() + " bytes at " + hex(block.getKey()) + ")";
            throw new IllegalStateException(context + ": " + bytes + " bytes at " + hex(address)
                    + " are not inside one allocation" + nearest);
        }
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    @Override
    public String name() {
        return "host emulation";
    }

    /** Frees what is left of device memory; pinned buffers and events must have been given back already. */
    @Override
    public synchronized void close() {
        runAll();
        for (long address : live.keySet()) Pointer.free(DevicePointers.at(address));
        live.clear();
        if (!pinned.isEmpty() || !events.isEmpty()) {
            throw new IllegalStateException("closed with " + pinned.size() + " pinned buffers and " + events.size()
                    + " events never given back");
        }
    }
}
