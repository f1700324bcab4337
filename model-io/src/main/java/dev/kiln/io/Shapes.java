package dev.kiln.io;

import java.util.Arrays;

/** Shape arithmetic with the overflow checks that untrusted headers need. */
public final class Shapes {
    /** Tensors have at most this many dimensions; a larger count only comes from a corrupted header. */
    public static final int MAX_RANK = 64;

    private Shapes() {
    }

    /**
     * Number of elements of a shape, or -1 when a dimension is negative, the rank is absurd, or the
     * product does not fit in a long. Callers turn -1 into an error that names the file and key.
     */
    public static long numelOrInvalid(long[] shape) {
        if (shape.length > MAX_RANK) {
            return -1;
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    /** Byte size of a shape of the given type, or -1 when invalid or beyond what one Java array can hold. */
    public static long byteSizeOrInvalid(long[] shape, ElementType type) {
        long n = numelOrInvalid(shape);
        if (n < 0 || n > (Integer.MAX_VALUE - 8) / type.byteSize()) {
            return -1;
        }
        return n * type.byteSize();
    }

    /** The same shape as ints, or null when a dimension does not fit in an int. */
    public static int[] toIntShapeOrNull(long[] shape) {
        int[] out = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0 || shape[i] > Integer.MAX_VALUE) {
                return null;
            }
            out[i] = (int) shape[i];
        }
        return out;
    }

    public static long[] toLong(int[] shape) {
        return Arrays.stream(shape).asLongStream().toArray();
    }

    public static String toString(int[] shape) {
        return Arrays.toString(shape);
    }
}
