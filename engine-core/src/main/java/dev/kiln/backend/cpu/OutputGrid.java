package dev.kiln.backend.cpu;

import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/**
 * A GEMM's view of a convolution output: a (channels, cols) matrix in which several images lie side by side,
 * image i from column {@code i * imageStride}, its output row p from {@code p * rowWidth} within that, and only
 * the first Q columns of each row hold outputs. The rest are garbage columns that the convolution formulation
 * computes anyway ({@link Im2Col}, {@link ShiftedGemmConvolution}).
 *
 * <p>{@link #crop} copies the outputs into an (N, channels, P, Q) tensor; {@link #spread} is its inverse for a
 * gradient, and writes zeros into every garbage cell, so that they contribute nothing to the backward GEMMs. Both
 * stage one matrix row at a time in a heap array and run in parallel over rows.
 */
record OutputGrid(int channels, int cols, int imageStride, int rowWidth, int p, int q) {

    /** Whether the grid has no garbage: each image's outputs are one contiguous block of P*Q. */
    private boolean dense() {
        return rowWidth == q && imageStride == p * q;
    }

    /** Index of image n, channel k in an (N, channels, P, Q) tensor's buffer that starts at {@code offset}. */
    private int block(int offset, int n, int k) {
        return offset + Math.toIntExact(((long) n * channels + k) * p * q);
    }

    /**
     * out[n0 + i, k, y, x] = grid[k * cols + i * imageStride + y * rowWidth + x] for images i < {@code images}, each
     * plane passed through {@code epilogue} on the way when it is not null.
     */
    void crop(FloatBuffer grid, int images, Tensor out, int n0, ChannelEpilogue epilogue) {
        FloatBuffer dst = CpuStorage.floats(out);
        int dstOff = CpuStorage.offset(out);
        if (dense() && epilogue == null) {
            ParallelLoops.forRange(channels, cols, (k0, k1) -> {
                for (int k = k0; k < k1; k++) {
                    for (int i = 0; i < images; i++) {
                        dst.put(block(dstOff, n0 + i, k), grid, k * cols + i * p * q, p * q);
                    }
                }
            });
            return;
        }
        ParallelLoops.forRange(channels, cols, (k0, k1) -> {
            float[] row = new float[cols];
            float[] plane = new float[p * q], scratch = epilogue == null ? null : new float[p * q];
            for (int k = k0; k < k1; k++) {
                grid.get(k * cols, row, 0, cols);
                for (int i = 0; i < images; i++) {
                    for (int y = 0; y < p; y++) {
                        System.arraycopy(row, i * imageStride + y * rowWidth, plane, y * q, q);
                    }
                    if (epilogue != null) epilogue.apply(plane, n0 + i, k, scratch);
                    dst.put(block(dstOff, n0 + i, k), plane, 0, p * q);
                }
            }
        });
    }

    /** The inverse of {@link #crop}: images [n0, n0 + images) of src onto the grid, zeros in the garbage cells. */
    void spread(Tensor src, int n0, int images, FloatBuffer grid) {
        FloatBuffer in = CpuStorage.floats(src);
        int srcOff = CpuStorage.offset(src);
        if (dense()) {
            ParallelLoops.forRange(channels, cols, (k0, k1) -> {
                for (int k = k0; k < k1; k++) {
                    for (int i = 0; i < images; i++) {
                        grid.put(k * cols + i * p * q, in, block(srcOff, n0 + i, k), p * q);
                    }
                }
            });
            return;
        }
        ParallelLoops.forRange(channels, cols, (k0, k1) -> {
            float[] row = new float[cols]; // garbage cells are never written, so they stay zero
            float[] plane = new float[p * q];
            for (int k = k0; k < k1; k++) {
                for (int i = 0; i < images; i++) {
                    in.get(block(srcOff, n0 + i, k), plane, 0, p * q);
                    for (int y = 0; y < p; y++) {
                        System.arraycopy(plane, y * q, row, i * imageStride + y * rowWidth, q);
                    }
                }
                grid.put(k * cols, row, 0, cols);
            }
        });
    }
}
