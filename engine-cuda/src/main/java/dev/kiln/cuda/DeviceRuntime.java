package dev.kiln.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * What {@link CudaBackend} asks of a device besides kernels and library calls: raw memory, copies and waiting.
 * {@link CudaDevice} is the real one. Tests without a GPU pass one over host memory instead, so that CudaBackend's
 * own code (views, copies, the caching allocator, every kernel launch) runs there too.
 */
interface DeviceRuntime extends RawDeviceMemory, AutoCloseable {

    /** Copies {@code bytes} from host memory to the device; returns once the host buffer may be reused. */
    void copyToDevice(long deviceAddress, Pointer host, long bytes, String context);

    /** Copies {@code bytes} from the device to host memory, after all queued work; returns once they are there. */
    void copyToHost(Pointer host, long deviceAddress, long bytes, String context);

    /** Page-locked host memory, which the device reads by DMA while the host goes on; 0 when there is none. */
    long mallocPinned(long bytes);

    void freePinned(long address);

    /**
     * Queues a copy from pinned host memory to the device and returns at once. The host must leave the source
     * alone until an event recorded after this call has completed ({@link #awaitEvent}).
     */
    void copyToDeviceAsync(long deviceAddress, long pinnedHost, long bytes, String context);

    /** A new event: a marker that can be placed in the device's queue of work. */
    long createEvent();

    /** Places the event in the queue, after all work queued so far. */
    void recordEvent(long event);

    /** Waits until the work queued before the event's last recording has finished. */
    void awaitEvent(long event);

    void destroyEvent(long event);

    /** Queues a device-to-device copy. */
    void copyOnDevice(long dst, long src, long bytes, String context);

    /** Queues a byte fill. */
    void memset(long dst, int value, long bytes, String context);

    /** Waits for all queued work; {@code context} names the caller in an error. */
    void synchronize(String context);

    /** The device, for log lines and messages. */
    String name();

    @Override
    void close();
}
