package dev.kiln.io;

import java.util.Arrays;

/** Reorders the dimensions of a tensor (numpy's transpose), for converting between layout conventions. */
public final class Permute {
    private Permute() {
    }

    /**
     * Returns a tensor whose dimension i is dimension {@code order[i]} of the input, in C order.
     * For example order (3, 2, 0, 1) turns an HWIO kernel into OIHW.
     */
    public static TensorData permute(TensorData t, int... order) {
        int[] shape = t.shape();
        int rank = shape.length;
        if (order.length != rank || !isPermutation(order)) {
            throw new IllegalArgumentException("order " + Arrays.toString(order) + " is not a permutation of "
                    + rank + " dimensions");
        }
        int elem = t.type().byteSize();
        long[] inStride = new long[rank];
        long s = 1;
        for (int i = rank - 1; i >= 0; i--) {
            inStride[i] = s;
            s *= shape[i];
        }
        int[] outShape = new int[rank];
        long[] strideOfOut = new long[rank];
        for (int i = 0; i < rank; i++) {
            outShape[i] = shape[order[i]];
            strideOfOut[i] = inStride[order[i]];
        }
        byte[] in = t.toBytes();
        byte[] out = new byte[in.length];
        int[] index = new int[rank];
        long numel = t.numel();
        for (long k = 0; k < numel; k++) {
            long src = 0;
            for (int d = 0; d < rank; d++) {
                src += index[d] * strideOfOut[d];
            }
            System.arraycopy(in, (int) (src * elem), out, (int) (k * elem), elem);
            for (int d = rank - 1; d >= 0 && ++index[d] == outShape[d]; d--) {
                index[d] = 0;
            }
        }
        return TensorData.adopt(t.type(), outShape, out);
    }

    private static boolean isPermutation(int[] order) {
        boolean[] seen = new boolean[order.length];
        for (int o : order) {
            if (o < 0 || o >= order.length || seen[o]) {
                return false;
            }
            seen[o] = true;
        }
        return true;
    }
}
