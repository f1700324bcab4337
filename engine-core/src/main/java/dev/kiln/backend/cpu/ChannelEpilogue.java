package dev.kiln.backend.cpu;

import dev.kiln.backend.InferenceBatchNorm;
import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/**
 * What a fused convolution ({@link CpuBackend#conv2dBatchNormForward}) does to each output plane before it is
 * stored: add the convolution's bias, apply an inference-mode batch norm as a per-channel scale and shift, add the
 * residual, ReLU. The float operations and their order are those of the separate kernels (the bias add of
 * {@link CpuElementwise#addChannelBias}, then {@link CpuBatchNorm#affineRow}), so fused and unfused outputs are
 * bit-identical. The gain is where it runs: on a block of output just written by a GEMM, still in cache.
 */
final class ChannelEpilogue {
    private final float[] convBias;
    private final CpuBatchNorm.InferenceAffine affine;
    private final Tensor residualTensor;
    private final FloatBuffer residual;
    private final int residualOffset;
    private final int channels;
    private final int plane;
    private final boolean relu;

    /** For an output of shape (N, channels, P, Q); convBias and residual (N, channels, P, Q) nullable. */
    ChannelEpilogue(Tensor convBias, InferenceBatchNorm bn, Tensor residual, boolean relu, Tensor output) {
        this.convBias = convBias == null ? null : CpuStorage.toArray(convBias);
        this.affine = CpuBatchNorm.InferenceAffine.of(bn.gamma(), bn.beta(), bn.mean(), bn.var(), bn.eps());
        this.residualTensor = residual;
        this.residual = residual == null ? null : CpuStorage.floats(residual);
        this.residualOffset = residual == null ? 0 : CpuStorage.offset(residual);
        this.channels = output.dim(1);
        this.plane = output.dim(2) * output.dim(3);
        this.relu = relu;
    }

    /** The convolution's bias (nullable), for kernels that apply the epilogue themselves. */
    float[] convBias() {
        return convBias;
    }

    /** The batch norm's per-channel scale. */
    float[] scale() {
        return affine.scale();
    }

    /** The batch norm's per-channel shift. */
    float[] shift() {
        return affine.shift();
    }

    /** The residual (N, channels, P, Q), nullable. */
    Tensor residualTensor() {
        return residualTensor;
    }

    boolean relu() {
        return relu;
    }

    /**
     * In place on values[0, P*Q), the output plane of image n, channel k. {@code scratch} (at least P*Q floats)
     * holds the residual's plane.
     */
    void apply(float[] values, int n, int k, float[] scratch) {
        if (convBias != null) {
            float b = convBias[k];
            for (int j = 0; j < plane; j++) values[j] = values[j] + b;
        }
        float[] r = null;
        if (residual != null) {
            residual.get(residualOffset + Math.toIntExact(((long) n * channels + k) * plane), scratch, 0, plane);
            r = scratch;
        }
        affine.apply(k, values, r, plane, relu);
    }

    /** In place on images [n0, n0 + images) of y, which a GEMM has just written, in parallel over planes. */
    void applyInPlace(Tensor y, int n0, int images) {
        FloatBuffer yb = CpuStorage.floats(y);
        int yo = CpuStorage.offset(y);
        ParallelLoops.forRange(images * channels, plane, (p0, p1) -> {
            float[] values = new float[plane], scratch = new float[plane];
            for (int p = p0; p < p1; p++) {
                int n = n0 + p / channels, k = p % channels;
                int at = yo + Math.toIntExact(((long) n * channels + k) * plane);
                yb.get(at, values, 0, plane);
                apply(values, n, k, scratch);
                yb.put(at, values, 0, plane);
            }
        });
    }
}
