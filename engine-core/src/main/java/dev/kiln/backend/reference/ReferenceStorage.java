package dev.kiln.backend.reference;

import dev.kiln.backend.Backend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Storage;

/**
 * The reference backend's memory: a plain {@code double[]}, whatever the dtype.
 *
 * <p>Keeping every dtype in doubles means kernels are written once. What makes an F32 tensor behave like F32 is
 * {@link #set}: every value stored into F32 storage is rounded to float precision, and every value stored into I32
 * storage is truncated toward zero (as a C or PyTorch cast would), so what a kernel reads back is always exactly
 * representable in the tensor's dtype.
 */
final class ReferenceStorage extends Storage {
    private double[] data;

    ReferenceStorage(Backend backend, DType dtype, long numel) {
        super(backend, dtype, numel);
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("reference backend: cannot allocate " + numel
                    + " elements, a Java array holds at most " + (Integer.MAX_VALUE - 8));
        }
        this.data = new double[(int) numel];
    }

    /** The elements; valid until the storage is freed. Writers must go through {@link #set} to keep the dtype. */
    double[] data() {
        if (data == null) throw new IllegalStateException("reference storage was already freed");
        return data;
    }

    double get(int index) {
        return data()[index];
    }

    /** Stores {@code value} at {@code index}, rounded to this storage's dtype. */
    void set(int index, double value) {
        data()[index] = roundTo(dtype(), value);
    }

    /** {@code value} as the nearest value of {@code dtype} (truncation toward zero for I32, as a cast does). */
    static double roundTo(DType dtype, double value) {
        return switch (dtype) {
            case F64 -> value;
            case F32 -> (float) value;
            case I32 -> (int) value;
        };
    }

    @Override
    protected void free() {
        data = null; // the garbage collector takes the array back
    }
}
