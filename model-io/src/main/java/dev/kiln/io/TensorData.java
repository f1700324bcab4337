package dev.kiln.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor read from a weight file, independent of the engine: its element type, its shape (C order)
 * and its values as little-endian bytes exactly as found. Converters give float/double/int/long arrays;
 * F16 and BF16 widen exactly to float. Instances are immutable.
 */
public final class TensorData {
    private final ElementType type;
    private final int[] shape;
    private final byte[] bytes;

    private TensorData(ElementType type, int[] shape, byte[] bytes) {
        this.type = type;
        this.shape = shape.clone();
        this.bytes = bytes;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
        }
        long expected = Shapes.byteSizeOrInvalid(Shapes.toLong(shape), type);
        if (expected != bytes.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + type
                    + " needs " + expected + " bytes, got " + bytes.length);
        }
    }

    /** Wraps little-endian bytes (copied). */
    public static TensorData ofBytes(ElementType type, int[] shape, byte[] littleEndian) {
        return new TensorData(type, shape, littleEndian.clone());
    }

    /**
     * Takes ownership of the byte array without copying: for readers that have just filled it and will
     * not touch it again (a weight file can be larger than a spare copy of it).
     */
    public static TensorData adopt(ElementType type, int[] shape, byte[] littleEndian) {
        return new TensorData(type, shape, littleEndian);
    }

    public static TensorData ofFloats(int[] shape, float[] values) {
        ByteBuffer b = allocate(values.length, 4);
        b.asFloatBuffer().put(values);
        return new TensorData(ElementType.F32, shape, b.array());
    }

    public static TensorData ofDoubles(int[] shape, double[] values) {
        ByteBuffer b = allocate(values.length, 8);
        b.asDoubleBuffer().put(values);
        return new TensorData(ElementType.F64, shape, b.array());
    }

    public static TensorData ofInts(int[] shape, int[] values) {
        ByteBuffer b = allocate(values.length, 4);
        b.asIntBuffer().put(values);
        return new TensorData(ElementType.I32, shape, b.array());
    }

    public static TensorData ofLongs(int[] shape, long[] values) {
        ByteBuffer b = allocate(values.length, 8);
        b.asLongBuffer().put(values);
        return new TensorData(ElementType.I64, shape, b.array());
    }

    public ElementType type() {
        return type;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        return bytes.length / type.byteSize();
    }

    public int byteSize() {
        return bytes.length;
    }

    /** A read-only little-endian view of the raw values. */
    public ByteBuffer buffer() {
        return ByteBuffer.wrap(bytes).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A copy of the raw little-endian values. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Values as float; F64 is rounded, integers are converted, F16/BF16 widen exactly. */
    public float[] toFloats() {
        ByteBuffer b = buffer();
        float[] out = new float[(int) numel()];
        switch (type) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> { for (int i = 0; i < out.length; i++) out[i] = (float) b.getDouble(8 * i); }
            case F16 -> { for (int i = 0; i < out.length; i++) out[i] = Half.toFloat(b.getShort(2 * i)); }
            case BF16 -> { for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat(b.getShort(2 * i) << 16); }
            case I32 -> { for (int i = 0; i < out.length; i++) out[i] = b.getInt(4 * i); }
            case I64 -> { for (int i = 0; i < out.length; i++) out[i] = b.getLong(8 * i); }
        }
        return out;
    }

    /** Values as double (exact for every type but I64 beyond 2^53). */
    public double[] toDoubles() {
        if (type == ElementType.F64) {
            double[] out = new double[(int) numel()];
            buffer().asDoubleBuffer().get(out);
            return out;
        }
        if (type == ElementType.I64) {
            return Arrays.stream(toLongs()).asDoubleStream().toArray();
        }
        float[] f = toFloats();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /** Values as int; only for integer types, and I64 values must fit. */
    public int[] toInts() {
        long[] l = toLongs();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (l[i] != (int) l[i]) {
                throw new ArithmeticException("value " + l[i] + " at index " + i + " does not fit in an int");
            }
            out[i] = (int) l[i];
        }
        return out;
    }

    /** Values as long; only for integer types. */
    public long[] toLongs() {
        ByteBuffer b = buffer();
        long[] out = new long[(int) numel()];
        switch (type) {
            case I64 -> b.asLongBuffer().get(out);
            case I32 -> { for (int i = 0; i < out.length; i++) out[i] = b.getInt(4 * i); }
            default -> throw new IllegalStateException("toLongs() on a " + type + " tensor; use toFloats()");
        }
        return out;
    }

    /** Same type, same shape, same bits. */
    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && t.type == type && Arrays.equals(t.shape, shape)
                && Arrays.equals(t.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * type.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return type + Arrays.toString(shape);
    }

    private static ByteBuffer allocate(int count, int size) {
        return ByteBuffer.allocate(Math.multiplyExact(count, size)).order(ByteOrder.LITTLE_ENDIAN);
    }
}
