package dev.kiln.backend;

import dev.kiln.tensor.DType;
import dev.kiln.tensor.Storage;
import dev.kiln.tensor.Tensor;

/**
 * The kernel-level contract every compute backend implements: memory, and one forward/backward pair per op.
 *
 * <p>Conventions, the same for every method:
 * <ul>
 *   <li>Tensors are contiguous (callers ensure it; {@link Tensor#contiguous()}), except the arguments of
 *       {@link #copy}, which may be any view. Activations are NCHW, convolution weights OIHW, dense weights
 *       [out, in].</li>
 *   <li>Output tensors are allocated by the caller with the right shape, and kernels <em>overwrite</em> them.
 *       Accumulation is explicit ({@link #axpy}). An output argument documented as nullable is skipped when null.</li>
 *   <li>Shapes are checked by the caller (the op) before the call, so a kernel may trust them; backends never see
 *       a layer name, and error messages about shapes come from the ops.</li>
 *   <li>Nothing here assumes host memory: a CUDA backend keeps every tensor on the device.</li>
 * </ul>
 * Backends are discovered with {@link java.util.ServiceLoader} through {@link BackendProvider}.
 */
public interface Backend {

    /** A short name: "cpu", "reference", "cuda". */
    String name();

    boolean supports(DType dtype);

    // ------------------------------------------------------------------ memory

    /** Uninitialized memory for {@code numel} elements. */
    Storage allocate(DType dtype, long numel);

    void write(Tensor dst, float[] src);

    void write(Tensor dst, double[] src);

    void write(Tensor dst, int[] src);

    float[] readFloats(Tensor src);

    double[] readDoubles(Tensor src);

    /** dst = src elementwise over two views of the same shape, with any strides (and dtype conversion). */
    void copy(Tensor src, Tensor dst);

    void fill(Tensor dst, double value);

    /** Blocks until queued work is finished (a no-op on synchronous backends). */
    default void synchronize() {
    }

    // ------------------------------------------------------------------ elementwise

    /** out = a + b. */
    void add(Tensor a, Tensor b, Tensor out);

    /** y += alpha * x. */
    void axpy(double alpha, Tensor x, Tensor y);

    /** out = a * b (elementwise). */
    void mul(Tensor a, Tensor b, Tensor out);

    /** out = alpha * x. */
    void scale(Tensor x, double alpha, Tensor out);

    /** y = max(x, 0). */
    void reluForward(Tensor x, Tensor y);

    /** dx = dy where y > 0, else 0 (the gradient at exactly 0 is 0, as in PyTorch). */
    void reluBackward(Tensor y, Tensor dy, Tensor dx);

    /** Fills {@code mask} with 0 (probability p) or 1/(1-p), from a generator seeded with {@code seed}. */
    void dropoutMask(Tensor mask, double p, long seed);

    /** out[0] = sum of all elements of x. */
    void sum(Tensor x, Tensor out);

    // ------------------------------------------------------------------ dense algebra

    /** c = alpha * op(a) op(b) + beta * c, with 2-D tensors and op = transpose when the flag is set. */
    void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c);

    /** y[n, c, ...] += bias[c], for y of shape (N, C) or (N, C, H, W). */
    void addChannelBias(Tensor y, Tensor bias);

    /** out[c] = sum of dy[n, c, ...] over every other dimension, for dy of shape (N, C) or (N, C, H, W). */
    void channelSum(Tensor dy, Tensor out);

    // ------------------------------------------------------------------ convolution

    /** y = conv2d(x, w) (+ bias). x (N, C, H, W), w (K, C, R, S), bias (K) nullable, y (N, K, P, Q). */
    void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec);

    /** dx = gradient of conv2d with respect to its input. */
    void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec);

    /** dw = gradient of conv2d with respect to its weight. */
    void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec);

    // ------------------------------------------------------------------ batch normalization (per channel of NCHW)

    /**
     * Training-mode batch norm: normalizes with the batch mean and biased variance, writes the batch mean and
     * 1/sqrt(var + eps) into {@code saveMean}/{@code saveInvStd} for the backward pass, and updates the running
     * statistics as PyTorch does: {@code running = (1 - momentum) * running + momentum * batch}, with the
     * <em>unbiased</em> variance. Running tensors are nullable (no update).
     */
    void batchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean,
                                  Tensor runningVar, double momentum, double eps, Tensor saveMean, Tensor saveInvStd);

    /** Inference-mode batch norm: y = (x - mean) / sqrt(var + eps) * gamma + beta with the given statistics. */
    void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                   Tensor y);

    /** Gradients of training-mode batch norm. dx, dgamma, dbeta are nullable. */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                           Tensor dgamma, Tensor dbeta);

    /** Gradients of inference-mode batch norm (statistics are constants). dx, dgamma, dbeta are nullable. */
    void batchNormBackwardInference(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, double eps,
                                    Tensor dx, Tensor dgamma, Tensor dbeta);

    // ------------------------------------------------------------------ fused kernels (optional)
    // Each default composes the kernels above; a backend overrides one to save passes over memory. The ReLUs after
    // batch norm and after a residual add are where ResNets spend most of their elementwise time and memory.

    /**
     * z = relu(batch norm with batch statistics of x (+ residual)): {@link #batchNormForwardTraining}, then the
     * residual add (when {@code residual} is not null) and the ReLU in place on z.
     */
    default void batchNormReluForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor z,
                                              Tensor runningMean, Tensor runningVar, double momentum, double eps,
                                              Tensor saveMean, Tensor saveInvStd) {
        batchNormForwardTraining(x, gamma, beta, z, runningMean, runningVar, momentum, eps, saveMean, saveInvStd);
        if (residual != null) add(z, residual, z);
        reluForward(z, z);
    }

    /** z = relu(batch norm of x with the given statistics (+ residual, nullable)). */
    default void batchNormReluForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var,
                                               double eps, Tensor residual, Tensor z) {
        batchNormForwardInference(x, gamma, beta, mean, var, eps, z);
        if (residual != null) add(z, residual, z);
        reluForward(z, z);
    }

    /**
     * y = bn(conv2d(x, w) (+ bias)) with {@code bn} in inference mode, or with {@code relu}
     * y = relu(bn(...) + residual) (residual nullable): a frozen convolution and the batch norm after it, for forward
     * passes that record nothing. The default runs {@link #conv2dForward} into a temporary tensor and the batch norm
     * from there; a backend that applies the batch norm to each block of convolution output while it is still in
     * cache saves a pass over memory.
     */
    default void conv2dBatchNormForward(Tensor x, Tensor w, Tensor bias, Conv2dSpec spec, InferenceBatchNorm bn,
                                        Tensor residual, boolean relu, Tensor y) {
        try (Tensor conv = Tensor.emptyLike(y)) {
            conv2dForward(x, w, bias, conv, spec);
            if (relu) {
                batchNormReluForwardInference(conv, bn.gamma(), bn.beta(), bn.mean(), bn.var(), bn.eps(), residual, y);
            } else {
                batchNormForwardInference(conv, bn.gamma(), bn.beta(), bn.mean(), bn.var(), bn.eps(), y);
            }
        }
    }

    /**
     * Gradients of z = relu(batchNormTraining(x) (+ residual)) given the output z and dz: the ReLU's gate
     * (dz where z > 0) is the residual's gradient {@code dresidual}, and {@link #batchNormBackward} of it gives dx,
     * dgamma and dbeta. Every output is nullable.
     */
    default void batchNormReluBackward(Tensor x, Tensor z, Tensor dz, Tensor gamma, Tensor saveMean,
                                       Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dresidual) {
        try (Tensor dy = Tensor.emptyLike(dz)) {
            reluBackward(z, dz, dy);
            batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
            if (dresidual != null) copy(dy, dresidual);
        }
    }

    /** As {@link #batchNormReluBackward} for inference-mode batch norm (constant statistics). */
    default void batchNormReluBackwardInference(Tensor x, Tensor z, Tensor dz, Tensor gamma, Tensor mean, Tensor var,
                                                double eps, Tensor dx, Tensor dgamma, Tensor dbeta,
                                                Tensor dresidual) {
        try (Tensor dy = Tensor.emptyLike(dz)) {
            reluBackward(z, dz, dy);
            batchNormBackwardInference(x, dy, gamma, mean, var, eps, dx, dgamma, dbeta);
            if (dresidual != null) copy(dy, dresidual);
        }
    }

    // ------------------------------------------------------------------ pooling

    /** y = max over each window; padding acts as -infinity. */
    void maxPool2dForward(Tensor x, Tensor y, Pool2dSpec spec);

    /** dx = dy routed to the first maximum of each window (PyTorch's choice on ties); overlaps accumulate. */
    void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, Pool2dSpec spec);

    /** y (N, C) = mean of x (N, C, H, W) over H and W. */
    void globalAvgPoolForward(Tensor x, Tensor y);

    /** dx (N, C, H, W) = dy (N, C) / (H * W), broadcast. */
    void globalAvgPoolBackward(Tensor dy, Tensor dx);

    // ------------------------------------------------------------------ softmax and loss (rows of (N, K))

    /** y = softmax(x) along each row, computed stably (max subtracted). */
    void softmax(Tensor x, Tensor y);

    /** dx = y * (dy - sum_k dy[n,k] y[n,k]) along each row, the gradient of {@link #softmax} given its output y. */
    void softmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /**
     * Softmax cross-entropy per row: {@code probs = softmax(logits)}, {@code rowLoss[n] = logsumexp(logits[n]) -
     * sum_k target[n,k] logits[n,k]}. {@code targets} is either I32 class indices (N) or a float distribution
     * (N, K), one-hot or soft.
     */
    void softmaxCrossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor rowLoss);

    /** dlogits = scale * (probs - target). */
    void softmaxCrossEntropyBackward(Tensor probs, Tensor targets, double scale, Tensor dlogits);

    // ------------------------------------------------------------------ optimizers (in place on the parameter)

    /** One Adam/AdamW step on {@code param}, updating the moment estimates m and v in place. */
    void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamConfig config);

    /**
     * One SGD step as {@code torch.optim.SGD}: g += wd * p; buf = g on the first step, else momentum * buf + g;
     * p -= lr * buf. With momentum 0, {@code buf} is unused and may be null.
     */
    void sgdStep(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay,
                 boolean firstStep);
}
