package dev.kiln.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The one place where status codes of the CUDA libraries become exceptions. Every native call's result goes
 * through {@link #check}, which names the API, the status and the op.
 *
 * <p>The library is told by the API's name prefix: {@code cudnn…}, {@code cublas…}, {@code nvrtc…}, {@code cuda…}
 * (runtime) and {@code cu…} (driver); each has its own code-to-name function.
 */
public final class CudaStatus {
    private static final String OUT_OF_MEMORY_HINT =
            "\nHINT: the GPU is out of memory; use a smaller batch, or run `kiln plan` to see what fits.";

    private CudaStatus() {
    }

    /**
     * Throws {@link CudaException} unless {@code status} is the library's success code (0 in all of them); a
     * {@link CudaOutOfMemoryException} when the device's memory is exhausted.
     */
    public static void check(String api, int status, String context) {
        if (status == 0) return;
        String name = statusName(api, status);
        String message = api + " failed: " + name + " (" + context + ")";
        if (isOutOfMemory(name)) throw new CudaOutOfMemoryException(api, name, message + OUT_OF_MEMORY_HINT);
        throw new CudaException(api, name, message);
    }

    /** Like {@link #check}, for an allocation of {@code bytes}: out-of-memory names the requested size. */
    public static void checkAllocation(String api, int status, long bytes, String context) {
        if (status == 0) return;
        String name = statusName(api, status);
        if (!isOutOfMemory(name)) check(api, status, context);
        throw outOfMemory(api, name, bytes, context);
    }

    /** The exception for a request of {@code bytes} that does not fit on the device. */
    static CudaOutOfMemoryException outOfMemory(String api, String name, long bytes, String context) {
        return new CudaOutOfMemoryException(api, name, api + " failed: " + name + " while allocating "
                + formatBytes(bytes) + " (" + context + ")" + OUT_OF_MEMORY_HINT);
    }

    static String formatBytes(long bytes) {
        if (bytes >= 1L << 30) return String.format("%.2f GiB", bytes / (double) (1L << 30));
        if (bytes >= 1L << 20) return String.format("%.1f MiB", bytes / (double) (1L << 20));
        if (bytes >= 1L << 10) return String.format("%.1f KiB", bytes / 1024.0);
        return bytes + " bytes";
    }

    private static boolean isOutOfMemory(String name) {
        return name.contains("MemoryAllocation") || name.contains("OUT_OF_MEMORY") || name.contains("ALLOC_FAILED");
    }

    /** The library's own name for {@code status}, or the number when the library cannot say. */
    static String statusName(String api, int status) {
        try {
            String name;
            if (api.startsWith("cudnn")) {
                name = string(cudnn.cudnnGetErrorString(status));
            } else if (api.startsWith("cublas")) {
                name = string(cublas.cublasGetStatusName(status));
            } else if (api.startsWith("nvrtc")) {
                name = string(nvrtc.nvrtcGetErrorString(status));
            } else if (api.startsWith("cuda")) {
                name = string(cudart.cudaGetErrorName(status));
            } else {
                name = driverErrorName(status);
            }
            return name == null || name.isEmpty() ? "status " + status : name;
        } catch (Throwable t) {
            // The library that produced the status may be the one that failed to load.
            return "status " + status;
        }
    }

    private static String driverErrorName(int status) {
        try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
            if (cudart.cuGetErrorName(status, out) != 0) return null;
            return string(out.get(BytePointer.class, 0));
        }
    }

    private static String string(BytePointer p) {
        return p == null || p.isNull() ? null : p.getString();
    }
}
