package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.CpuBatchNorm.Layout;
import dev.kiln.backend.cpu.CpuBatchNorm.Vec;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.DoublePointer;

/**
 * {@link CpuBatchNorm}'s training-mode forward and its backward passes through Kiln's own kernels
 * ({@code src/main/cpp/kiln_batch_norm.h}), in parallel over channels. The kernels return per-channel sums in
 * double; this class turns them into the saved and running statistics and the parameter gradients exactly as the
 * Java loops do.
 */
final class NativeBatchNorm {
    private NativeBatchNorm() {
    }

    /** See {@link CpuBatchNorm#forwardTraining}. */
    static void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor y, Tensor runningMean,
                                Tensor runningVar, double momentum, double eps, Tensor saveMean, Tensor saveInvStd,
                                boolean relu) {
        Layout l = Layout.of(x);
        int channels = l.c(), m = l.count();
        long xAt = CpuStorage.address(x), yAt = CpuStorage.address(y), rAt = address(residual);
        long gAt = address(gamma), bAt = address(beta);
        try (DoublePointer stats = new DoublePointer(2L * Math.max(1, channels))) {
            long meanAt = stats.address(), varAt = meanAt + (long) Double.BYTES * channels;
            ParallelLoops.forRange(channels, 3L * m, (c0, c1) -> NativeKernels.batchNormForwardTraining(xAt, rAt,
                    yAt, l.n(), channels, l.plane(), gAt, bAt, eps, relu ? 1 : 0, c0, c1, meanAt, varAt));
            Vec sm = Vec.of(saveMean), si = Vec.of(saveInvStd), rm = Vec.of(runningMean), rv = Vec.of(runningVar);
            for (int c = 0; c < channels; c++) {
                double mean = stats.get(c), var = stats.get(channels + c);
                CpuBatchNorm.keepStatistics(c, mean, var, 1.0 / Math.sqrt(var + eps), m, momentum, sm, si, rm, rv);
            }
        }
    }

    /**
     * See CpuBatchNorm's backward: stat2 is the inverse std (training) or the variance, turned into one with eps
     * (inference). z, dx, dgamma, dbeta and dresidual are nullable.
     */
    static void backward(Tensor x, Tensor z, Tensor dy, Tensor gamma, Vec mean, Vec stat2, double eps, Tensor dx,
                         Tensor dgamma, Tensor dbeta, Tensor dresidual, boolean training) {
        Layout l = Layout.of(x);
        int channels = l.c(), m = l.count();
        try (DoublePointer vectors = new DoublePointer(4L * Math.max(1, channels))) {
            for (int c = 0; c < channels; c++) {
                vectors.put(c, mean.get(c));
                vectors.put(channels + c, training ? stat2.get(c) : 1.0 / Math.sqrt(stat2.get(c) + eps));
            }
            long at = vectors.address(), meanAt = at, invStdAt = at + (long) Double.BYTES * channels;
            long dgAt = dgamma == null ? 0 : at + 2L * Double.BYTES * channels;
            long dbAt = dbeta == null ? 0 : at + 3L * Double.BYTES * channels;
            long xAt = CpuStorage.address(x), zAt = address(z), dyAt = CpuStorage.address(dy);
            long dxAt = address(dx), drAt = address(dresidual), gAt = address(gamma);
            ParallelLoops.forRange(channels, 4L * m, (c0, c1) -> NativeKernels.batchNormBackward(xAt, zAt, dyAt,
                    dxAt, drAt, l.n(), channels, l.plane(), meanAt, invStdAt, gAt, training ? 1 : 0, c0, c1, dgAt,
                    dbAt));
            Vec dg = Vec.of(dgamma), db = Vec.of(dbeta);
            for (int c = 0; c < channels; c++) {
                if (dg != null) dg.put(c, vectors.get(2L * channels + c));
                if (db != null) db.put(c, vectors.get(3L * channels + c));
            }
        }
    }

    /** The tensor's native address, or 0 (C's null) for none. */
    private static long address(Tensor t) {
        return t == null ? 0 : CpuStorage.address(t);
    }
}
