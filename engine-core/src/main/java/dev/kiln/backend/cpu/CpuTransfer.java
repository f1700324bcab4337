package dev.kiln.backend.cpu;

import dev.kiln.tensor.DType;
import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/** Moves data between Java arrays and off-heap tensors, and between two views of any strides (with F32/I32 conversion). */
final class CpuTransfer {
    private CpuTransfer() {
    }

    static void write(Tensor dst, float[] src) {
        int o = CpuStorage.offset(dst);
        if (dst.dtype() == DType.F32) {
            CpuStorage.floats(dst).put(o, src, 0, src.length);
        } else {
            IntBuffer d = CpuStorage.ints(dst);
            for (int i = 0; i < src.length; i++) d.put(o + i, (int) src[i]);
        }
    }

    static void write(Tensor dst, double[] src) {
        int o = CpuStorage.offset(dst);
        if (dst.dtype() == DType.F32) {
            FloatBuffer d = CpuStorage.floats(dst);
            for (int i = 0; i < src.length; i++) d.put(o + i, (float) src[i]);
        } else {
            IntBuffer d = CpuStorage.ints(dst);
            for (int i = 0; i < src.length; i++) d.put(o + i, (int) src[i]);
        }
    }

    static void write(Tensor dst, int[] src) {
        int o = CpuStorage.offset(dst);
        if (dst.dtype() == DType.I32) {
            CpuStorage.ints(dst).put(o, src, 0, src.length);
        } else {
            FloatBuffer d = CpuStorage.floats(dst);
            for (int i = 0; i < src.length; i++) d.put(o + i, src[i]);
        }
    }

    /** The elements of a contiguous tensor. */
    static float[] readFloats(Tensor src) {
        float[] out = new float[Math.toIntExact(src.numel())];
        int o = CpuStorage.offset(src);
        if (src.dtype() == DType.F32) {
            CpuStorage.floats(src).get(o, out, 0, out.length);
        } else {
            IntBuffer s = CpuStorage.ints(src);
            for (int i = 0; i < out.length; i++) out[i] = s.get(o + i);
        }
        return out;
    }

    static double[] readDoubles(Tensor src) {
        double[] out = new double[Math.toIntExact(src.numel())];
        int o = CpuStorage.offset(src);
        if (src.dtype() == DType.F32) {
            FloatBuffer s = CpuStorage.floats(src);
            for (int i = 0; i < out.length; i++) out[i] = s.get(o + i);
        } else {
            IntBuffer s = CpuStorage.ints(src);
            for (int i = 0; i < out.length; i++) out[i] = s.get(o + i);
        }
        return out;
    }

    /**
     * dst = src for two views of one shape with any strides and offsets. The last dimension is the inner loop; the
     * outer dimensions are walked with an odometer of indices.
     */
    static void copy(Tensor src, Tensor dst) {
        long numel = dst.numel();
        if (numel == 0) return;
        if (src.isContiguous() && dst.isContiguous() && src.dtype() == dst.dtype()) {
            copyContiguous(src, dst, Math.toIntExact(numel));
            return;
        }
        int rank = dst.rank();
        int[] dims = dst.shape().toArray();
        long[] ss = src.strides(), ds = dst.strides();
        int inner = rank == 0 ? 1 : dims[rank - 1];
        long sInner = rank == 0 ? 0 : ss[rank - 1], dInner = rank == 0 ? 0 : ds[rank - 1];
        long rows = numel / inner;
        int[] index = new int[Math.max(0, rank - 1)];
        long sBase = src.offset(), dBase = dst.offset();
        boolean floats = src.dtype() == DType.F32 && dst.dtype() == DType.F32;
        FloatBuffer sf = floats ? CpuStorage.floats(src) : null, df = floats ? CpuStorage.floats(dst) : null;
        Element from = reader(src);
        ElementWriter writer = writer(dst);
        for (long row = 0; row < rows; row++) {
            if (floats) {
                // The common case (transposes, narrows) without the conversion lambdas.
                for (int i = 0; i < inner; i++) df.put((int) (dBase + i * dInner), sf.get((int) (sBase + i * sInner)));
            } else {
                for (int i = 0; i < inner; i++) writer.put(dBase + i * dInner, from.get(sBase + i * sInner));
            }
            // Advance the odometer over dimensions [0, rank - 1).
            for (int d = rank - 2; d >= 0; d--) {
                index[d]++;
                sBase += ss[d];
                dBase += ds[d];
                if (index[d] < dims[d]) break;
                sBase -= ss[d] * dims[d];
                dBase -= ds[d] * dims[d];
                index[d] = 0;
            }
        }
    }

    private static void copyContiguous(Tensor src, Tensor dst, int n) {
        int so = CpuStorage.offset(src), dO = CpuStorage.offset(dst);
        if (src.dtype() == DType.F32) {
            CpuStorage.floats(dst).put(dO, CpuStorage.floats(src), so, n);
        } else {
            CpuStorage.ints(dst).put(dO, CpuStorage.ints(src), so, n);
        }
    }

    /** Reads element {@code index} of a storage as a double (exact for F32 and I32). */
    private interface Element {
        double get(long index);
    }

    private interface ElementWriter {
        void put(long index, double value);
    }

    private static Element reader(Tensor t) {
        if (t.dtype() == DType.F32) {
            FloatBuffer b = CpuStorage.floats(t);
            return i -> b.get((int) i);
        }
        IntBuffer b = CpuStorage.ints(t);
        return i -> b.get((int) i);
    }

    private static ElementWriter writer(Tensor t) {
        if (t.dtype() == DType.F32) {
            FloatBuffer b = CpuStorage.floats(t);
            return (i, v) -> b.put((int) i, (float) v);
        }
        IntBuffer b = CpuStorage.ints(t);
        return (i, v) -> b.put((int) i, (int) v);
    }
}
