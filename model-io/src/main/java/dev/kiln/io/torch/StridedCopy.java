package dev.kiln.io.torch;

import java.util.Arrays;

/**
 * Turns a strided window onto a storage into a C-contiguous array, after checking that every element
 * the window touches lies inside the storage (so a hostile size or stride fails instead of reading
 * out of bounds or allocating without limit).
 */
final class StridedCopy {
    private StridedCopy() {
    }

    /**
     * @param storage     the storage's bytes
     * @param elementSize bytes per element
     * @param first       index of the first element of the window, in elements
     * @param available   elements the window may reach from the start of the storage
     * @return the elements in C order, or throws IllegalArgumentException naming the problem
     */
    static byte[] contiguous(byte[] storage, int elementSize, long first, long available,
                             long[] shape, long[] stride) {
        long numel = 1;
        long last = first;
        for (int i = 0; i < shape.length; i++) {
            numel = Math.multiplyExact(numel, shape[i]);
            if (shape[i] > 0) {
                last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
            }
        }
        if (numel == 0) {
            return new byte[0];
        }
        if (last >= available || numel > (Integer.MAX_VALUE - 8) / elementSize) {
            throw new IllegalArgumentException("size " + Arrays.toString(shape) + " with stride "
                    + Arrays.toString(stride) + " at offset " + first + " reaches element " + last
                    + " of a storage of " + available);
        }
        byte[] out = new byte[(int) numel * elementSize];
        if (isContiguous(shape, stride)) {
            System.arraycopy(storage, Math.toIntExact(first * elementSize), out, 0, out.length);
            return out;
        }
        copyStrided(storage, elementSize, first, shape, stride, out);
        return out;
    }

    /** C order: the stride of each dimension (of size > 1) is the product of the sizes after it. */
    static boolean isContiguous(long[] shape, long[] stride) {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** Walks the index space like an odometer, copying one innermost row at a time. */
    private static void copyStrided(byte[] storage, int elementSize, long first, long[] shape, long[] stride,
                                    byte[] out) {
        int rank = shape.length;
        int inner = rank - 1;
        long[] index = new long[rank];
        int outPos = 0;
        long rowStart = first;
        while (true) {
            long src = rowStart;
            for (long j = 0; j < shape[inner]; j++) {
                System.arraycopy(storage, (int) (src * elementSize), out, outPos, elementSize);
                outPos += elementSize;
                src += stride[inner];
            }
            // advance the outer dimensions
            int d = inner - 1;
            while (d >= 0) {
                index[d]++;
                rowStart += stride[d];
                if (index[d] < shape[d]) {
                    break;
                }
                rowStart -= index[d] * stride[d];
                index[d] = 0;
                d--;
            }
            if (d < 0) {
                return;
            }
        }
    }
}
