package dev.kiln.backend.cpu;

import dev.kiln.backend.AdamConfig;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.InferenceBatchNorm;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Storage;
import dev.kiln.tensor.Tensor;


/**
 * The float32 CPU backend: off-heap tensors from a {@link CachingAllocator}; Kiln's own AVX-512 kernels
 * ({@link NativeKernels}) for most convolutions, a dense layer's small-batch GEMMs and batch norm's training passes
 * where they loaded; OpenBLAS sgemm for the other dense algebra and convolutions (im2col, or shifted GEMMs over a
 * padded input); and parallel Java loops for everything else. F64 is not supported here; the reference backend
 * computes in double.
 *
 * <p>Threads: {@code kiln.threads} (default: available processors) for both OpenBLAS and the Java loops, which
 * take turns and never run at the same time.
 */
public final class CpuBackend implements Backend {
    private final CachingAllocator allocator = new CachingAllocator();
    /**
     * {@code -Dkiln.cpu.conv} picks the convolution formulations, for side-by-side benchmarks: {@code auto} (the
     * default) uses each where it suits, Kiln's own kernel first; {@code shifted} leaves out Kiln's own kernel and
     * {@code im2col} the shifted GEMMs too.
     */
    private final CpuConvolution convolution = convolution(System.getProperty("kiln.cpu.conv", "auto"));
    private final CpuGemm dense = new CpuGemm();

    private CpuBackend() {
        Blas.init();
    }

    /** The convolutions of one {@code kiln.cpu.conv} setting. */
    static CpuConvolution convolution(String formulation) {
        return switch (formulation) {
            case "auto" -> new CpuConvolution(true, true);
            case "shifted" -> new CpuConvolution(false, true);
            case "im2col" -> new CpuConvolution(false, false);
            default -> throw new IllegalArgumentException(
                    "cpu backend: -Dkiln.cpu.conv=" + formulation + " is not one of auto, shifted, im2col");
        };
    }

    private static final class Holder {
        static final CpuBackend INSTANCE = new CpuBackend();
    }

    /** The process-wide CPU backend (loads OpenBLAS on first use). */
    public static CpuBackend get() {
        return Holder.INSTANCE;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public boolean supports(DType dtype) {
        return dtype == DType.F32 || dtype == DType.I32;
    }

    // ------------------------------------------------------------------ memory and statistics

    @Override
    public Storage allocate(DType dtype, long numel) {
        return new CpuStorage(this, allocator, dtype, numel);
    }

    /**
     * CPU memory whose tensors report {@code owner} as their backend, so that ops route every kernel call on them
     * through {@code owner}: a decorator such as a profiler that forwards to this backend. The kernels here
     * accept such tensors as their own.
     */
    public Storage allocateOwnedBy(Backend owner, DType dtype, long numel) {
        return new CpuStorage(owner, allocator, dtype, numel);
    }

    /** Bytes held by live tensors (rounded to the allocator's size classes). */
    public long allocatedBytes() {
        return allocator.allocatedBytes();
    }

    /** The most bytes held by live tensors at once since start or {@link #resetPeakBytes()}. */
    public long peakBytes() {
        return allocator.peakBytes();
    }

    public void resetPeakBytes() {
        allocator.resetPeak();
    }

    /** Bytes of freed blocks kept for reuse. */
    public long cachedBytes() {
        return allocator.cachedBytes();
    }

    /** How many blocks came from the C allocator rather than the cache. */
    public long blocksCreated() {
        return allocator.blocksCreated();
    }

    /** Bytes of convolution and GEMM scratch space (grow-only, reused across calls). */
    public long workspaceBytes() {
        return convolution.workspaceBytes() + dense.workspaceBytes();
    }

    /** Returns cached blocks and the convolution and GEMM workspaces to the operating system. */
    public void trimCache() {
        allocator.trimCache();
        convolution.releaseWorkspaces();
        dense.releaseWorkspace();
    }

    /** Threads used by the Java loops and by OpenBLAS. */
    public int threads() {
        return CpuThreads.count();
    }

    @Override
    public void write(Tensor dst, float[] src) {
        CpuTransfer.write(dst, src);
    }

    @Override
    public void write(Tensor dst, double[] src) {
        CpuTransfer.write(dst, src);
    }

    @Override
    public void write(Tensor dst, int[] src) {
        CpuTransfer.write(dst, src);
    }

    @Override
    public float[] readFloats(Tensor src) {
        return CpuTransfer.readFloats(src);
    }

    @Override
    public double[] readDoubles(Tensor src) {
        return CpuTransfer.readDoubles(src);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CpuTransfer.copy(src, dst);
    }

    @Override
    public void fill(Tensor dst, double value) {
        CpuElementwise.fill(dst, value);
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        CpuElementwise.add(a, b, out);
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        CpuElementwise.axpy(alpha, x, y);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        CpuElementwise.mul(a, b, out);
    }

    @Override
    public void scale(Tensor x, double alpha, Tensor out) {
        CpuElementwise.scale(x, alpha, out);
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        CpuElementwise.reluForward(x, y);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        CpuElementwise.reluBackward(y, dy, dx);
    }

    @Override
    public void dropoutMask(Tensor mask, double p, long seed) {
        CpuElementwise.dropoutMask(mask, p, seed);
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        CpuElementwise.sum(x, out);
    }

    // ------------------------------------------------------------------ dense algebra

    /** c (M, N) = alpha * op(a) op(b) + beta * c; a is (M, K) or (K, M) when transposed, b (K, N) or (N, K). */
    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        dense.gemm(transA, transB, alpha, a, b, beta, c);
    }

    @Override
    public void addChannelBias(Tensor y, Tensor bias) {
        CpuElementwise.addChannelBias(y, bias);
    }

    @Override
    public void channelSum(Tensor dy, Tensor out) {
        CpuElementwise.channelSum(dy, out);
    }

    // ------------------------------------------------------------------ convolution

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        convolution.forward(x, w, bias, y, spec);
    }

    @Override
    public void conv2dBatchNormForward(Tensor x, Tensor w, Tensor bias, Conv2dSpec spec, InferenceBatchNorm bn,
                                       Tensor residual, boolean relu, Tensor y) {
        convolution.forward(x, w, y, spec, new ChannelEpilogue(bias, bn, residual, relu, y));
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        convolution.backwardData(dy, w, dx, spec);
    }

    @Override
    public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        convolution.backwardFilter(x, dy, dw, spec);
    }

    // ------------------------------------------------------------------ batch normalization

    @Override
    public void batchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean,
                                         Tensor runningVar, double momentum, double eps, Tensor saveMean,
                                         Tensor saveInvStd) {
        CpuBatchNorm.forwardTraining(x, gamma, beta, null, y, runningMean, runningVar, momentum, eps, saveMean,
                saveInvStd, false);
    }

    @Override
    public void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                          Tensor y) {
        CpuBatchNorm.forwardInference(x, gamma, beta, mean, var, eps, null, y, false);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        CpuBatchNorm.backwardTraining(x, null, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, null);
    }

    @Override
    public void batchNormBackwardInference(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, double eps,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        CpuBatchNorm.backwardInference(x, null, dy, gamma, mean, var, eps, dx, dgamma, dbeta, null);
    }

    // ------------------------------------------------------------------ fused kernels

    @Override
    public void batchNormReluForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor z,
                                             Tensor runningMean, Tensor runningVar, double momentum, double eps,
                                             Tensor saveMean, Tensor saveInvStd) {
        CpuBatchNorm.forwardTraining(x, gamma, beta, residual, z, runningMean, runningVar, momentum, eps, saveMean,
                saveInvStd, true);
    }

    @Override
    public void batchNormReluForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var,
                                              double eps, Tensor residual, Tensor z) {
        CpuBatchNorm.forwardInference(x, gamma, beta, mean, var, eps, residual, z, true);
    }

    @Override
    public void batchNormReluBackward(Tensor x, Tensor z, Tensor dz, Tensor gamma, Tensor saveMean,
                                      Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dresidual) {
        CpuBatchNorm.backwardTraining(x, z, dz, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, dresidual);
    }

    @Override
    public void batchNormReluBackwardInference(Tensor x, Tensor z, Tensor dz, Tensor gamma, Tensor mean, Tensor var,
                                               double eps, Tensor dx, Tensor dgamma, Tensor dbeta,
                                               Tensor dresidual) {
        CpuBatchNorm.backwardInference(x, z, dz, gamma, mean, var, eps, dx, dgamma, dbeta, dresidual);
    }

    // ------------------------------------------------------------------ pooling

    @Override
    public void maxPool2dForward(Tensor x, Tensor y, Pool2dSpec spec) {
        CpuPooling.maxForward(x, y, spec);
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, Pool2dSpec spec) {
        CpuPooling.maxBackward(x, y, dy, dx, spec);
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        CpuPooling.globalAvgForward(x, y);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        CpuPooling.globalAvgBackward(dy, dx);
    }

    // ------------------------------------------------------------------ softmax and loss

    @Override
    public void softmax(Tensor x, Tensor y) {
        CpuSoftmax.softmax(x, y);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        CpuSoftmax.softmaxBackward(y, dy, dx);
    }

    @Override
    public void softmaxCrossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor rowLoss) {
        CpuSoftmax.crossEntropyForward(logits, targets, probs, rowLoss);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor targets, double scale, Tensor dlogits) {
        CpuSoftmax.crossEntropyBackward(probs, targets, scale, dlogits);
    }

    // ------------------------------------------------------------------ optimizers

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamConfig config) {
        CpuOptimizers.adam(param, grad, m, v, config);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay,
                        boolean firstStep) {
        CpuOptimizers.sgd(param, grad, buf, lr, momentum, weightDecay, firstStep);
    }
}
