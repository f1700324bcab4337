package dev.kiln.cuda;

import dev.kiln.backend.DeviceMemoryExhausted;

/** A CUDA, cuBLAS or cuDNN call that failed because the GPU's memory is exhausted. */
public final class CudaOutOfMemoryException extends CudaException implements DeviceMemoryExhausted {

    public CudaOutOfMemoryException(String api, String status, String message) {
        super(api, status, message);
    }
}
