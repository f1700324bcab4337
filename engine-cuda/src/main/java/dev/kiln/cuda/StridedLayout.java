package dev.kiln.cuda;

import dev.kiln.tensor.Tensor;

/**
 * The by-value argument of the strided copy kernels: the C struct {@code StridedLayout} in {@code copy.cu}, as
 * 8-byte words in field order (rank, numel, shape[8], srcStride[8], dstStride[8], srcOffset, dstOffset).
 */
record StridedLayout(long[] words) {
    static final int MAX_RANK = 8;
    static final int WORDS = 2 + 3 * MAX_RANK + 2;

    /** The layout for copying view {@code src} into view {@code dst} (same shape); offsets in elements. */
    static StridedLayout of(Tensor src, Tensor dst) {
        int rank = src.rank();
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("copy: tensors of rank " + rank + " exceed the CUDA copy's " + MAX_RANK);
        }
        long[] w = new long[WORDS];
        w[0] = rank;
        w[1] = src.numel();
        for (int k = 0; k < rank; k++) {
            w[2 + k] = src.dim(k);
            w[2 + MAX_RANK + k] = src.stride(k);
            w[2 + 2 * MAX_RANK + k] = dst.stride(k);
        }
        w[2 + 3 * MAX_RANK] = src.offset();
        w[3 + 3 * MAX_RANK] = dst.offset();
        return new StridedLayout(w);
    }

    long numel() {
        return words[1];
    }
}
