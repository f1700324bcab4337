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
