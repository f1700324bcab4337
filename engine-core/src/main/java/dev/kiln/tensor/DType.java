package dev.kiln.tensor;

/** Element types. Activations and weights are F32; F64 exists for gradient checks; I32 holds class labels. */
public enum DType {
    F32(4), F64(8), I32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    public boolean isFloatingPoint() {
        return this != I32;
    }
}
