package dev.kiln.tensor;

import java.util.Arrays;

/**
 * An immutable tensor shape, such as (N, C, H, W). Printed the way PyTorch prints shapes, {@code (8, 3, 224, 224)},
 * because every shape error in Kiln quotes one.
 */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
        }
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code i}; negative indices count from the end, as in Python. */
    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public int[] toArray() {
        return dims.clone();
    }

    public long numel() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** Row-major (C-contiguous) strides, in elements. */
    public long[] contiguousStrides() {
        long[] strides = new long[dims.length];
        long s = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= dims[i];
        }
        return strides;
    }

    /** Returns this shape with dimension {@code i} replaced by {@code size}. */
    public Shape withDim(int i, int size) {
        int[] copy = dims.clone();
        copy[i < 0 ? dims.length + i : i] = size;
        return new Shape(copy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape other && Arrays.equals(dims, other.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(dims[i]);
        }
        if (dims.length == 1) sb.append(',');
        return sb.append(')').toString();
    }
}
