package dev.kiln.bench;

import dev.kiln.backend.AdamConfig;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.InferenceBatchNorm;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.backend.cpu.CpuBackend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Storage;
import dev.kiln.tensor.Tensor;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A timing decorator: forwards every kernel to another backend and adds its wall time (after
 * {@link Backend#synchronize()}, so asynchronous backends are charged correctly) to its {@link KernelFamily}.
 *
 * <p>Ops call the backend of their input tensors, so the tensors must report this decorator as their backend.
 * Around the CPU backend, {@link CpuBackend#allocateOwnedBy} provides exactly that. Around any other backend the
 * storage belongs to the inner backend and only calls made on this object directly are timed.
 *
 * <p>Not thread-safe; the engine calls kernels from one thread.
 */
public final class ProfilingBackend implements Backend {
    private final Backend inner;
    private final long[] nanos = new long[KernelFamily.values().length];
    private final long[] calls = new long[KernelFamily.values().length];
    private final Map<String, Long> perKernel = new java.util.TreeMap<>();

    public ProfilingBackend(Backend inner) {
        this.inner = inner;
    }

    /** True when tensors allocated here route their kernels through this profiler. */
    public boolean seesEveryKernel() {
        return inner instanceof CpuBackend;
    }

    public void reset() {
        java.util.Arrays.fill(nanos, 0);
        java.util.Arrays.fill(calls, 0);
        perKernel.clear();
    }

    /** Accumulated nanoseconds per family since the last {@link #reset()}. */
    public Map<KernelFamily, Long> nanosByFamily() {
        Map<KernelFamily, Long> out = new EnumMap<>(KernelFamily.class);
        for (KernelFamily f : KernelFamily.values()) out.put(f, nanos[f.ordinal()]);
        return out;
    }

    public Map<KernelFamily, Long> callsByFamily() {
        Map<KernelFamily, Long> out = new EnumMap<>(KernelFamily.class);
        for (KernelFamily f : KernelFamily.values()) out.put(f, calls[f.ordinal()]);
        return out;
    }

    private void time(KernelFamily family, Runnable kernel) {
        long t0 = System.nanoTime();
        kernel.run();
        inner.synchronize();
        long dt = System.nanoTime() - t0;
        nanos[family.ordinal()] += dt;
        calls[family.ordinal()]++;
        // The calling method (the overridden kernel) names the line in the per-kernel table.
        String kernelName = StackWalker.getInstance().walk(f -> f.skip(1).findFirst().orElseThrow().getMethodName());
        perKernel.merge(kernelName, dt, Long::sum);
    }

    /** Accumulated nanoseconds per kernel method since the last {@link #reset()}. */
    public Map<String, Long> nanosByKernel() {
        return new java.util.TreeMap<>(perKernel);
    }

    private <T> T time(KernelFamily family, Supplier<T> kernel) {
        long t0 = System.nanoTime();
        T result = kernel.get();
        inner.synchronize();
        nanos[family.ordinal()] += System.nanoTime() - t0;
        calls[family.ordinal()]++;
        return result;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public boolean supports(DType dtype) {
        return inner.supports(dtype);
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Storage allocate(DType dtype, long numel) {
        return inner instanceof CpuBackend cpu ? cpu.allocateOwnedBy(this, dtype, numel) : inner.allocate(dtype, numel);
    }

    @Override
    public void write(Tensor dst, float[] src) {
        time(KernelFamily.MEMORY, () -> inner.write(dst, src));
    }

    @Override
    public void write(Tensor dst, double[] src) {
        time(KernelFamily.MEMORY, () -> inner.write(dst, src));
    }

    @Override
    public void write(Tensor dst, int[] src) {
        time(KernelFamily.MEMORY, () -> inner.write(dst, src));
    }

    @Override
    public float[] readFloats(Tensor src) {
        return time(KernelFamily.MEMORY, () -> inner.readFloats(src));
    }

    @Override
    public double[] readDoubles(Tensor src) {
        return time(KernelFamily.MEMORY, () -> inner.readDoubles(src));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        time(KernelFamily.MEMORY, () -> inner.copy(src, dst));
    }

    @Override
    public void fill(Tensor dst, double value) {
        time(KernelFamily.MEMORY, () -> inner.fill(dst, value));
    }

    @Override
    public void synchronize() {
        inner.synchronize();
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        time(KernelFamily.ELEMENTWISE, () -> inner.add(a, b, out));
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        time(KernelFamily.ELEMENTWISE, () -> inner.axpy(alpha, x, y));
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        time(KernelFamily.ELEMENTWISE, () -> inner.mul(a, b, out));
    }

    @Override
    public void scale(Tensor x, double alpha, Tensor out) {
        time(KernelFamily.ELEMENTWISE, () -> inner.scale(x, alpha, out));
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        time(KernelFamily.ELEMENTWISE, () -> inner.reluForward(x, y));
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        time(KernelFamily.ELEMENTWISE, () -> inner.reluBackward(y, dy, dx));
    }

    @Override
    public void dropoutMask(Tensor mask, double p, long seed) {
        time(KernelFamily.ELEMENTWISE, () -> inner.dropoutMask(mask, p, seed));
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        time(KernelFamily.ELEMENTWISE, () -> inner.sum(x, out));
    }

    // ------------------------------------------------------------------ dense algebra

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        time(KernelFamily.GEMM, () -> inner.gemm(transA, transB, alpha, a, b, beta, c));
    }

    @Override
    public void addChannelBias(Tensor y, Tensor bias) {
        time(KernelFamily.ELEMENTWISE, () -> inner.addChannelBias(y, bias));
    }

    @Override
    public void channelSum(Tensor dy, Tensor out) {
        time(KernelFamily.ELEMENTWISE, () -> inner.channelSum(dy, out));
    }

    // ------------------------------------------------------------------ convolution

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        time(KernelFamily.CONV_FORWARD, () -> inner.conv2dForward(x, w, bias, y, spec));
    }

    @Override
    public void conv2dBatchNormForward(Tensor x, Tensor w, Tensor bias, Conv2dSpec spec, InferenceBatchNorm bn,
                                       Tensor residual, boolean relu, Tensor y) {
        time(KernelFamily.CONV_BATCHNORM_FORWARD,
                () -> inner.conv2dBatchNormForward(x, w, bias, spec, bn, residual, relu, y));
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        time(KernelFamily.CONV_BACKWARD_DATA, () -> inner.conv2dBackwardData(dy, w, dx, spec));
    }

    @Override
    public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        time(KernelFamily.CONV_BACKWARD_FILTER, () -> inner.conv2dBackwardFilter(x, dy, dw, spec));
    }

    // ------------------------------------------------------------------ batch normalization

    @Override
    public void batchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean,
                                         Tensor runningVar, double momentum, double eps, Tensor saveMean,
                                         Tensor saveInvStd) {
        time(KernelFamily.BATCHNORM_FORWARD, () -> inner.batchNormForwardTraining(x, gamma, beta, y, runningMean,
                runningVar, momentum, eps, saveMean, saveInvStd));
    }

    @Override
    public void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                          Tensor y) {
        time(KernelFamily.BATCHNORM_FORWARD, () -> inner.batchNormForwardInference(x, gamma, beta, mean, var, eps, y));
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        time(KernelFamily.BATCHNORM_BACKWARD, () -> inner.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx,
                dgamma, dbeta));
    }

    @Override
    public void batchNormBackwardInference(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, double eps,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        time(KernelFamily.BATCHNORM_BACKWARD, () -> inner.batchNormBackwardInference(x, dy, gamma, mean, var, eps,
                dx, dgamma, dbeta));
    }

    // ------------------------------------------------------------------ fused kernels

    @Override
    public void batchNormReluForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor z,
                                             Tensor runningMean, Tensor runningVar, double momentum, double eps,
                                             Tensor saveMean, Tensor saveInvStd) {
        time(KernelFamily.BATCHNORM_FORWARD, () -> inner.batchNormReluForwardTraining(x, gamma, beta, residual, z,
                runningMean, runningVar, momentum, eps, saveMean, saveInvStd));
    }

    @Override
    public void batchNormReluForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var,
                                              double eps, Tensor residual, Tensor z) {
        time(KernelFamily.BATCHNORM_FORWARD, () -> inner.batchNormReluForwardInference(x, gamma, beta, mean, var,
                eps, residual, z));
    }

    @Override
    public void batchNormReluBackward(Tensor x, Tensor z, Tensor dz, Tensor gamma, Tensor saveMean,
                                      Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dresidual) {
        time(KernelFamily.BATCHNORM_BACKWARD, () -> inner.batchNormReluBackward(x, z, dz, gamma, saveMean,
                saveInvStd, dx, dgamma, dbeta, dresidual));
    }

    @Override
    public void batchNormReluBackwardInference(Tensor x, Tensor z, Tensor dz, Tensor gamma, Tensor mean, Tensor var,
                                               double eps, Tensor dx, Tensor dgamma, Tensor dbeta,
                                               Tensor dresidual) {
        time(KernelFamily.BATCHNORM_BACKWARD, () -> inner.batchNormReluBackwardInference(x, z, dz, gamma, mean, var,
                eps, dx, dgamma, dbeta, dresidual));
    }

    // ------------------------------------------------------------------ pooling

    @Override
    public void maxPool2dForward(Tensor x, Tensor y, Pool2dSpec spec) {
        time(KernelFamily.POOLING, () -> inner.maxPool2dForward(x, y, spec));
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, Pool2dSpec spec) {
        time(KernelFamily.POOLING, () -> inner.maxPool2dBackward(x, y, dy, dx, spec));
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        time(KernelFamily.POOLING, () -> inner.globalAvgPoolForward(x, y));
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        time(KernelFamily.POOLING, () -> inner.globalAvgPoolBackward(dy, dx));
    }

    // ------------------------------------------------------------------ softmax and loss

    @Override
    public void softmax(Tensor x, Tensor y) {
        time(KernelFamily.SOFTMAX_LOSS, () -> inner.softmax(x, y));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        time(KernelFamily.SOFTMAX_LOSS, () -> inner.softmaxBackward(y, dy, dx));
    }

    @Override
    public void softmaxCrossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor rowLoss) {
        time(KernelFamily.SOFTMAX_LOSS, () -> inner.softmaxCrossEntropyForward(logits, targets, probs, rowLoss));
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor targets, double scale, Tensor dlogits) {
        time(KernelFamily.SOFTMAX_LOSS, () -> inner.softmaxCrossEntropyBackward(probs, targets, scale, dlogits));
    }

    // ------------------------------------------------------------------ optimizers

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamConfig config) {
        time(KernelFamily.OPTIMIZER, () -> inner.adamStep(param, grad, m, v, config));
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay,
                        boolean firstStep) {
        time(KernelFamily.OPTIMIZER, () -> inner.sgdStep(param, grad, buf, lr, momentum, weightDecay, firstStep));
    }
}
