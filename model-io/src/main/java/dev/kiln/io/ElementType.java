package dev.kiln.io;

/**
 * Element types found in weight files. Values are always kept as little-endian bytes exactly as stored,
 * so a file can be re-written bit for bit; {@link TensorData} converts to Java arrays on request.
 */
public enum ElementType {
    F16(2, true), BF16(2, true), F32(4, true), F64(8, true), I32(4, false), I64(8, false);

    private final int byteSize;
    private final boolean floatingPoint;

    ElementType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Size of one element in bytes. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The safetensors spelling of this type ("F32", "I64", ...), which is also the enum name. */
    public String safetensorsName() {
        return name();
    }

    /** Parses a safetensors dtype string; returns null for a type this reader does not support. */
    public static ElementType fromSafetensorsName(String name) {
        for (ElementType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
