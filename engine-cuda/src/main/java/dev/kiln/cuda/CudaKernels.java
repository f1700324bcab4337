package dev.kiln.cuda;

/**
 * Typed Java entry points for the kernels in {@code src/main/cuda}, one method per kernel, with the same argument
 * order as the C signature. Arguments are device addresses ({@code long}) and sizes; the caller has checked
 * shapes. Every kernel is a grid-stride loop or uses one block per row/channel, as its file documents.
 */
final class CudaKernels {
    /** Threads per block. The reduction kernels size their shared memory for exactly this. */
    static final int BLOCK = 256;
    /** Enough blocks to fill any current GPU; grid-stride loops cover the rest. */
    private static final long MAX_GRID = 1L << 16;

    private final KernelLauncher modules;

    CudaKernels(KernelLauncher modules) {
        this.modules = modules;
    }

    static int gridFor(long n) {
        return (int) Math.min((n + BLOCK - 1) / BLOCK, MAX_GRID);
    }

    private void elementwise(String file, String kernel, long n, KernelArgs args) {
        try (args) {
            modules.launch(file, kernel, gridFor(n), BLOCK, args);
        }
    }

    private void perBlock(String file, String kernel, long blocks, KernelArgs args) {
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException(kernel + ": " + blocks + " rows exceed one grid");
        try (args) {
            modules.launch(file, kernel, (int) blocks, BLOCK, args);
        }
    }

    // ------------------------------------------------------------------ elementwise.cu

    void fillF32(long out, float value, long n) {
        elementwise("elementwise.cu", "fill_f32", n, new KernelArgs(3).ptr(out).f32(value).i64(n));
    }

    void fillI32(long out, int value, long n) {
        elementwise("elementwise.cu", "fill_i32", n, new KernelArgs(3).ptr(out).i32(value).i64(n));
    }

    void addF32(long a, long b, long out, long n) {
        elementwise("elementwise.cu", "add_f32", n, new KernelArgs(4).ptr(a).ptr(b).ptr(out).i64(n));
    }

    void mulF32(long a, long b, long out, long n) {
        elementwise("elementwise.cu", "mul_f32", n, new KernelArgs(4).ptr(a).ptr(b).ptr(out).i64(n));
    }

    void scaleF32(long x, float alpha, long out, long n) {
        elementwise("elementwise.cu", "scale_f32", n, new KernelArgs(4).ptr(x).f32(alpha).ptr(out).i64(n));
    }

    void axpyF32(float alpha, long x, long y, long n) {
        elementwise("elementwise.cu", "axpy_f32", n, new KernelArgs(4).f32(alpha).ptr(x).ptr(y).i64(n));
    }

    void reluBackwardF32(long y, long dy, long dx, long n) {
        elementwise("elementwise.cu", "relu_backward_f32", n, new KernelArgs(4).ptr(y).ptr(dy).ptr(dx).i64(n));
    }

    // ------------------------------------------------------------------ copy.cu

    /** dst = src over a {@link StridedLayout}; {@code kernel} is one of copy_f32_f32, copy_f32_i32, ... */
    void stridedCopy(String kernel, long src, long dst, StridedLayout layout) {
        elementwise("copy.cu", kernel, layout.numel(), new KernelArgs(3).ptr(src).ptr(dst).struct(layout.words()));
    }

    // ------------------------------------------------------------------ channel.cu

    void addChannelBiasF32(long y, long bias, long channels, long inner, long n) {
        elementwise("channel.cu", "add_channel_bias_f32", n,
                new KernelArgs(5).ptr(y).ptr(bias).i64(channels).i64(inner).i64(n));
    }

    void channelSumF32(long dy, long out, long batch, long channels, long inner) {
        perBlock("channel.cu", "channel_sum_f32", channels,
                new KernelArgs(5).ptr(dy).ptr(out).i64(batch).i64(channels).i64(inner));
    }

    // ------------------------------------------------------------------ reduce.cu

    /** How many partial sums {@link #sumPartialF32} writes for {@code n} elements. */
    static int sumPartialCount(long n) {
        return (int) Math.max(1, Math.min((n + BLOCK - 1) / BLOCK, 1024));
    }

    void sumPartialF32(long x, long partials, long n) {
        perBlock("reduce.cu", "sum_partial_f32", sumPartialCount(n), new KernelArgs(3).ptr(x).ptr(partials).i64(n));
    }

    void sumFinalF32(long partials, long out, int count) {
        perBlock("reduce.cu", "sum_final_f32", 1, new KernelArgs(3).ptr(partials).ptr(out).i32(count));
    }

    // ------------------------------------------------------------------ pool.cu

    void maxPool2dForwardF32(long x, long y, long planes, int height, int width, int outH, int outW, int kernel,
                             int stride, int pad) {
        elementwise("pool.cu", "max_pool2d_forward_f32", planes * outH * outW, new KernelArgs(10).ptr(x).ptr(y)
                .i64(planes).i32(height).i32(width).i32(outH).i32(outW).i32(kernel).i32(stride).i32(pad));
    }

    void maxPool2dBackwardF32(long x, long dy, long dx, long planes, int height, int width, int outH, int outW,
                              int kernel, int stride, int pad) {
        elementwise("pool.cu", "max_pool2d_backward_f32", planes * height * width, new KernelArgs(11).ptr(x)
                .ptr(dy).ptr(dx).i64(planes).i32(height).i32(width).i32(outH).i32(outW).i32(kernel).i32(stride)
                .i32(pad));
    }

    void globalAvgPoolForwardF32(long x, long y, long rows, long area) {
        // One warp per row: BLOCK / 32 rows per block.
        long blocks = Math.min((rows + BLOCK / 32 - 1) / (BLOCK / 32), MAX_GRID);
        perBlock("pool.cu", "global_avg_pool_forward_f32", blocks, new KernelArgs(4).ptr(x).ptr(y).i64(rows).i64(area));
    }

    void globalAvgPoolBackwardF32(long dy, long dx, long rows, long area) {
        elementwise("pool.cu", "global_avg_pool_backward_f32", rows * area,
                new KernelArgs(4).ptr(dy).ptr(dx).i64(rows).i64(area));
    }

    // ------------------------------------------------------------------ softmax_ce.cu

    void softmaxCeForwardIndexF32(long logits, long labels, long probs, long rowLoss, long rows, int classes) {
        perBlock("softmax_ce.cu", "softmax_ce_forward_index_f32", rows,
                new KernelArgs(5).ptr(logits).ptr(labels).ptr(probs).ptr(rowLoss).i32(classes));
    }

    void softmaxCeForwardDistF32(long logits, long targets, long probs, long rowLoss, long rows, int classes) {
        perBlock("softmax_ce.cu", "softmax_ce_forward_dist_f32", rows,
                new KernelArgs(5).ptr(logits).ptr(targets).ptr(probs).ptr(rowLoss).i32(classes));
    }

    void softmaxCeBackwardIndexF32(long probs, long labels, float scale, long dlogits, int classes, long total) {
        elementwise("softmax_ce.cu", "softmax_ce_backward_index_f32", total,
                new KernelArgs(6).ptr(probs).ptr(labels).f32(scale).ptr(dlogits).i32(classes).i64(total));
    }

    void softmaxCeBackwardDistF32(long probs, long targets, float scale, long dlogits, long total) {
        elementwise("softmax_ce.cu", "softmax_ce_backward_dist_f32", total,
                new KernelArgs(5).ptr(probs).ptr(targets).f32(scale).ptr(dlogits).i64(total));
    }

    // ------------------------------------------------------------------ optim.cu

    void adamStepF32(long param, long grad, long m, long v, float beta1, float oneMinusBeta1, float beta2,
                     float oneMinusBeta2, float eps, float l2, float decay, float stepSize,
                     float invSqrtBiasCorrection2, long n) {
        elementwise("optim.cu", "adam_step_f32", n, new KernelArgs(14).ptr(param).ptr(grad).ptr(m).ptr(v)
                .f32(beta1).f32(oneMinusBeta1).f32(beta2).f32(oneMinusBeta2).f32(eps).f32(l2).f32(decay)
                .f32(stepSize).f32(invSqrtBiasCorrection2).i64(n));
    }

    void sgdStepF32(long param, long grad, long buf, float lr, float momentum, float weightDecay, boolean firstStep,
                    long n) {
        elementwise("optim.cu", "sgd_step_f32", n, new KernelArgs(8).ptr(param).ptr(grad).ptr(buf).f32(lr)
                .f32(momentum).f32(weightDecay).i32(firstStep ? 1 : 0).i64(n));
    }

    // ------------------------------------------------------------------ dropout.cu

    void dropoutMaskF32(long mask, float p, float keepScale, long seed, long n) {
        elementwise("dropout.cu", "dropout_mask_f32", n,
                new KernelArgs(5).ptr(mask).f32(p).f32(keepScale).i64(seed).i64(n));
    }

    // ------------------------------------------------------------------ batchnorm.cu

    void bnInferenceBackwardParamsF32(long x, long dy, long mean, long var, float eps, long dgamma, long dbeta,
                                      long batch, long channels, long inner) {
        perBlock("batchnorm.cu", "bn_inference_backward_params_f32", channels, new KernelArgs(10).ptr(x).ptr(dy)
                .ptr(mean).ptr(var).f32(eps).ptr(dgamma).ptr(dbeta).i64(batch).i64(channels).i64(inner));
    }

    void bnInferenceBackwardDataF32(long dy, long gamma, long var, float eps, long dx, long channels, long inner,
                                    long n) {
        elementwise("batchnorm.cu", "bn_inference_backward_data_f32", n, new KernelArgs(8).ptr(dy).ptr(gamma)
                .ptr(var).f32(eps).ptr(dx).i64(channels).i64(inner).i64(n));
    }
}
