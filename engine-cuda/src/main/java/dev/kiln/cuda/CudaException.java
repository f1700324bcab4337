package dev.kiln.cuda;

/**
 * A failed call into the CUDA stack (runtime, driver, cuBLAS, cuDNN, NVRTC). The message names the API, the
 * status and the op, such as {@code cudnnConvolutionForward failed: CUDNN_STATUS_BAD_PARAM (conv2dForward x(8, 3,
 * 224, 224))}, and ends with a HINT line when there is something the user can do.
 */
public class CudaException extends RuntimeException {
    private final String api;
    private final String status;

    public CudaException(String api, String status, String message) {
        super(message);
        this.api = api;
        this.status = status;
    }

    /** The CUDA function that failed, such as {@code cudaMalloc}. */
    public String api() {
        return api;
    }

    /** The status name, such as {@code cudaErrorMemoryAllocation}. */
    public String status() {
        return status;
    }

    /** True when the device ran out of memory. */
    public boolean isOutOfMemory() {
        return status.contains("MemoryAllocation") || status.contains("OUT_OF_MEMORY") || status.contains("ALLOC_FAILED");
    }
}
