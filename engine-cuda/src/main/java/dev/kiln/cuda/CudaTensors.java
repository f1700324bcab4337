package dev.kiln.cuda;

import dev.kiln.tensor.Tensor;

/** Device addresses of tensors, and the checks every kernel argument needs. */
final class CudaTensors {
    private CudaTensors() {
    }

    /** The device address of element (0, …, 0) of {@code t}. */
    static long address(Tensor t) {
        if (!(t.storage() instanceof CudaStorage storage)) {
            throw new IllegalArgumentException("a tensor on backend '" + t.backend().name()
                    + "' was passed to the cuda backend; move it first with tensor.to(backend)");
        }
        return storage.address() + t.offset() * t.dtype().bytes();
    }

    /** Like {@link #address}, but 0 (NULL) for a null tensor, for outputs the contract marks nullable. */
    static long addressOrNull(Tensor t) {
        return t == null ? 0 : address(t);
    }

    /** The address of the storage itself (offset 0), for kernels that take offsets separately. */
    static long storageAddress(Tensor t) {
        return address(t) - t.offset() * t.dtype().bytes();
    }

    static void requireContiguous(String op, Tensor t) {
        if (!t.isContiguous()) throw new IllegalArgumentException(op + ": the cuda backend needs a contiguous tensor, got a view of shape " + t.shape());
    }

    static void requireF32(String op, Tensor t) {
        if (t.dtype() != dev.kiln.tensor.DType.F32) {
            throw new IllegalArgumentException(op + ": the cuda backend computes in F32, got " + t.dtype() + " " + t.shape());
        }
    }
}
