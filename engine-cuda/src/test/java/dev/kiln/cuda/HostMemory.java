package dev.kiln.cuda;

import org.bytedeco.javacpp.Pointer;

import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link DeviceRuntime} over host memory, for running {@link CudaBackend} without a GPU: "device" addresses are
 * malloc'd host addresses, copies are memcpy, and everything is synchronous. Unlike a GPU it checks every copy and
 * fill against the live allocations, so a wrong size or offset in the backend fails at once instead of corrupting
 * memory.
 */
final class HostMemory implements DeviceRuntime {
    /** Live allocations: address to size in bytes. */
    private final TreeMap<Long, Long> live = new TreeMap<>();

    @Override
    public synchronized long malloc(long bytes) {
        long address = Pointer.malloc(bytes).address();
        if (address != 0) live.put(address, bytes);
        return address;
    }

    @Override
    public synchronized void free(long address) {
        if (live.remove(address) == null) throw new IllegalStateException("free of " + hex(address) + ", which is not allocated");
        Pointer.free(DevicePointers.at(address));
    }

    @Override
    public void awaitIdle() {
    }

    @Override
    public void copyToDevice(long deviceAddress, Pointer host, long bytes, String context) {
        requireAllocated(deviceAddress, bytes, context);
        Pointer.memcpy(DevicePointers.at(deviceAddress), host, bytes);
    }

    @Override
    public void copyToHost(Pointer host, long deviceAddress, long bytes, String context) {
        requireAllocated(deviceAddress, bytes, context);
        Pointer.memcpy(host, DevicePointers.at(deviceAddress), bytes);
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes, String context) {
        requireAllocated(src, bytes, context);
        requireAllocated(dst, bytes, context);
        Pointer.memcpy(DevicePointers.at(dst), DevicePointers.at(src), bytes);
    }

    @Override
    public void memset(long dst, int value, long bytes, String context) {
        requireAllocated(dst, bytes, context);
        Pointer.memset(DevicePointers.at(dst), value, bytes);
    }

    @Override
    public void synchronize(String context) {
    }

    @Override
    public String name() {
        return "host emulation";
    }

    /** Bytes [address, address + bytes) must lie inside one live allocation. */
    synchronized void requireAllocated(long address, long bytes, String context) {
        if (bytes == 0) return;
        Map.Entry<Long, Long> block = live.floorEntry(address);
        if (block == null || address + bytes > block.getKey() + block.getValue()) {
            throw new IllegalStateException(context + ": " + bytes + " bytes at " + hex(address)
                    + " are not inside one allocation"
                    + (block == null ? "" : " (nearest: " + block.getValue() + " bytes at " + hex(block.getKey()) + ")"));
        }
    }

    synchronized int liveAllocations() {
        return live.size();
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    @Override
    public synchronized void close() {
        for (long address : live.keySet()) Pointer.free(DevicePointers.at(address));
        live.clear();
    }
}
