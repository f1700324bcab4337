package dev.kiln.cuda;

import dev.kiln.backend.AdamConfig;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Storage;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

import java.util.function.Function;

import static dev.kiln.cuda.CudaTensors.address;
import static dev.kiln.cuda.CudaTensors.addressOrNull;
import static dev.kiln.cuda.CudaTensors.requireContiguous;
import static dev.kiln.cuda.CudaTensors.requireF32;

/**
 * The {@link Backend} on one NVIDIA GPU. Every tensor lives in device memory; the host sees data only through
 * {@link #write} and {@link #readFloats}. Work runs on the default stream in call order: kernels and writes (queued
 * from pinned staging buffers, {@link PinnedUploads}) return before the GPU finishes, and reads (or
 * {@link #synchronize()}) wait for it.
 *
 * <p>Who computes what: cuDNN does convolutions, batch norm (except inference-mode backward), ReLU forward and
 * softmax; cuBLAS does GEMM; Kiln's own kernels ({@code src/main/cuda}, compiled with NVRTC) do the rest,
 * including max pooling, whose tie rule (first maximum) and ceil_mode windows must match PyTorch exactly.
 *
 * <p>Data types: F32 and I32 (labels). F64, used for gradient checks, stays on the CPU and reference backends.
 */
public final class CudaBackend implements Backend, AutoCloseable {
    private final CudaConfig config;
    private final DeviceRuntime device;
    private final CachingDeviceAllocator memory;
    private final PinnedUploads uploads;
    private final KernelLauncher launcher;
    private final CudaKernels kernels;
    private final VendorLibraries libraries;

    /** Opens the GPU named by {@code config}. Needs the CUDA libraries; see {@link CudaBackendProvider}. */
    public CudaBackend(CudaConfig config) {
        this(config, new CudaDevice(config));
    }

    private CudaBackend(CudaConfig config, CudaDevice gpu) {
        this(config, gpu, new CudaModules(gpu, config.synchronizeKernels()),
                memory -> new CudnnAndCublas(gpu, memory, config));
    }

    /**
     * The backend's own code over the given device, kernel launcher and library calls. On a GPU they are the
     * CUDA driver, NVRTC-compiled modules and cuDNN with cuBLAS; tests without a GPU pass host emulations.
     */
    CudaBackend(CudaConfig config, DeviceRuntime device, KernelLauncher launcher,
                Function<CachingDeviceAllocator, VendorLibraries> libraries) {
        this.config = config;
        this.device = device;
        this.memory = new CachingDeviceAllocator(device);
        this.uploads = new PinnedUploads(device);
        this.launcher = launcher;
        this.kernels = new CudaKernels(launcher);
        this.libraries = libraries.apply(memory);
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** The GPU, for the log line that says which device trains. */
    public String deviceName() {
        return device.name();
    }

    public CudaConfig config() {
        return config;
    }

    /** Bytes held by live tensors and scratch buffers. */
    public long bytesInUse() {
        return memory.bytesInUse();
    }

    /** Bytes freed by Kiln but kept by the caching allocator for reuse. */
    public long bytesCached() {
        return memory.bytesCached();
    }

    /** How often the allocator called cudaMalloc; it stops growing once every step size has been seen. */
    public long deviceAllocations() {
        return memory.rawAllocations();
    }

    /** Number of convolution algorithm choices made so far (one per shape and pass). */
    public int convolutionAlgorithmsChosen() {
        return libraries.convolutionAlgorithmsChosen();
    }

    /** Gives cached device memory back to the driver, for other processes or a larger batch. */
    public void emptyCache() {
        synchronize();
        memory.emptyCache();
    }

    @Override
    public boolean supports(DType dtype) {
        return dtype == DType.F32 || dtype == DType.I32;
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Storage allocate(DType dtype, long numel) {
        if (!supports(dtype)) {
            throw new IllegalArgumentException("the cuda backend does not support " + dtype
                    + "; F64 is for gradient checks on the cpu or reference backend");
        }
        return new CudaStorage(this, dtype, numel, memory);
    }

    @Override
    public void write(Tensor dst, float[] src) {
        requireContiguous("write", dst);
        checkLength("write", dst, src.length);
        if (dst.dtype() == DType.F32) {
            uploads.upload(address(dst), src, "write " + dst.shape());
        } else {
            int[] ints = new int[src.length];
            for (int i = 0; i < src.length; i++) ints[i] = (int) src[i];
            write(dst, ints);
        }
    }

    @Override
    public void write(Tensor dst, double[] src) {
        if (dst.dtype() == DType.I32) {
            // Straight to int: through float, integers above 2^24 would lose their low bits.
            int[] ints = new int[src.length];
            for (int i = 0; i < src.length; i++) ints[i] = (int) src[i];
            write(dst, ints);
            return;
        }
        float[] floats = new float[src.length];
        for (int i = 0; i < src.length; i++) floats[i] = (float) src[i];
        write(dst, floats);
    }

    @Override
    public void write(Tensor dst, int[] src) {
        requireContiguous("write", dst);
        checkLength("write", dst, src.length);
        if (dst.dtype() == DType.I32) {
            uploads.upload(address(dst), src, "write " + dst.shape());
        } else {
            float[] floats = new float[src.length];
            for (int i = 0; i < src.length; i++) floats[i] = src[i];
            write(dst, floats);
        }
    }

    @Override
    public float[] readFloats(Tensor src) {
        requireContiguous("readFloats", src);
        int n = Math.toIntExact(src.numel());
        float[] out = new float[n];
        if (src.dtype() == DType.F32) {
            try (FloatPointer host = new FloatPointer(n)) {
                device.copyToHost(host, address(src), (long) n * Float.BYTES, "readFloats " + src.shape());
                host.get(out);
            }
        } else {
            int[] ints = readInts(src);
            for (int i = 0; i < n; i++) out[i] = ints[i];
        }
        return out;
    }

    @Override
    public double[] readDoubles(Tensor src) {
        if (src.dtype() == DType.I32) {
            // Straight from int: through float, integers above 2^24 would lose their low bits.
            int[] ints = readInts(src);
            double[] out = new double[ints.length];
            for (int i = 0; i < ints.length; i++) out[i] = ints[i];
            return out;
        }
        float[] floats = readFloats(src);
        double[] out = new double[floats.length];
        for (int i = 0; i < floats.length; i++) out[i] = floats[i];
        return out;
    }

    private int[] readInts(Tensor src) {
        requireContiguous("readInts", src);
        int n = Math.toIntExact(src.numel());
        int[] out = new int[n];
        try (IntPointer host = new IntPointer(n)) {
            device.copyToHost(host, address(src), (long) n * Integer.BYTES, "readInts " + src.shape());
            host.get(out);
        }
        return out;
    }

    private static void checkLength(String op, Tensor t, int length) {
        if (length != t.numel()) {
            throw new IllegalArgumentException(op + ": " + length + " values for a tensor of shape " + t.shape());
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.numel() == 0) return;
        if (src.isContiguous() && dst.isContiguous() && src.dtype() == dst.dtype()) {
            device.copyOnDevice(address(dst), address(src), src.numel() * src.dtype().bytes(), "copy " + src.shape());
            return;
        }
        String kernel = "copy_" + suffix(src.dtype()) + "_" + suffix(dst.dtype());
        kernels.stridedCopy(kernel, CudaTensors.storageAddress(src), CudaTensors.storageAddress(dst),
                StridedLayout.of(src, dst));
    }

    private static String suffix(DType dtype) {
        return switch (dtype) {
            case F32 -> "f32";
            case I32 -> "i32";
            case F64 -> throw new IllegalArgumentException("the cuda backend does not support F64");
        };
    }

    @Override
    public void fill(Tensor dst, double value) {
        requireContiguous("fill", dst);
        long n = dst.numel();
        if (value == 0.0 && Double.doubleToRawLongBits(value) == 0L) {
            device.memset(address(dst), 0, n * dst.dtype().bytes(), "fill " + dst.shape());
        } else if (dst.dtype() == DType.I32) {
            kernels.fillI32(address(dst), (int) value, n);
        } else {
            kernels.fillF32(address(dst), (float) value, n);
        }
    }

    @Override
    public void synchronize() {
        device.synchronize("synchronize");
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        kernels.addF32(address(a), address(b), address(out), out.numel());
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        kernels.axpyF32((float) alpha, address(x), address(y), y.numel());
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        kernels.mulF32(address(a), address(b), address(out), out.numel());
    }

    @Override
    public void scale(Tensor x, double alpha, Tensor out) {
        kernels.scaleF32(address(x), (float) alpha, address(out), out.numel());
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        libraries.relu(x, y);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        kernels.reluBackwardF32(address(y), address(dy), address(dx), dx.numel());
    }

    @Override
    public void dropoutMask(Tensor mask, double p, long seed) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        float keepScale = p < 1 ? (float) (1.0 / (1.0 - p)) : 0f;
        kernels.dropoutMaskF32(address(mask), (float) p, keepScale, seed, mask.numel());
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        requireF32("sum", x);
        long n = x.numel();
        int partialCount = CudaKernels.sumPartialCount(n);
        CachingDeviceAllocator.Block partials = memory.allocate((long) partialCount * Double.BYTES, "sum x" + x.shape());
        try {
            if (n == 0) {
                fill(out, 0.0);
                return;
            }
            kernels.sumPartialF32(address(x), partials.address(), n);
            kernels.sumFinalF32(partials.address(), address(out), partialCount);
        } finally {
            memory.release(partials);  // safe at once: later users of the block queue behind these kernels
        }
    }

    // ------------------------------------------------------------------ dense algebra

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        if ((transA ? a.dim(0) : a.dim(1)) == 0) {
            // No products: c = beta * c, as on the CPU (cuBLAS does not document k = 0).
            if (beta == 0) fill(c, 0);
            else scale(c, beta, c);
            return;
        }
        libraries.gemm(transA, transB, alpha, a, b, beta, c);
    }

    @Override
    public void addChannelBias(Tensor y, Tensor bias) {
        long batch = y.dim(0);
        long channels = y.dim(1);
        long inner = batch * channels == 0 ? 0 : y.numel() / (batch * channels);
        kernels.addChannelBiasF32(address(y), address(bias), channels, inner, y.numel());
    }

    @Override
    public void channelSum(Tensor dy, Tensor out) {
        long batch = dy.dim(0);
        long channels = dy.dim(1);
        long inner = batch * channels == 0 ? 0 : dy.numel() / (batch * channels);
        kernels.channelSumF32(address(dy), address(out), batch, channels, inner);
    }

    // ------------------------------------------------------------------ convolution

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        if (y.numel() == 0) return; // cuDNN rejects descriptors with a zero dimension
        if (x.numel() == 0) {
            fill(y, 0); // no input channels: nothing to sum, as on the CPU
        } else {
            libraries.convolutionForward(x, w, y, spec);
        }
        if (bias != null) addChannelBias(y, bias);
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        if (dx.numel() == 0) return;
        if (dy.numel() == 0) {
            fill(dx, 0); // no filters: the input contributed to nothing
            return;
        }
        libraries.convolutionBackwardData(dy, w, dx, spec);
    }

    @Override
    public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        if (x.numel() == 0 || dy.numel() == 0) {
            fill(dw, 0); // an empty batch contributes nothing, as on the CPU
            return;
        }
        libraries.convolutionBackwardFilter(x, dy, dw, spec);
    }

    // ------------------------------------------------------------------ batch normalization

    @Override
    public void batchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean,
                                         Tensor runningVar, double momentum, double eps, Tensor saveMean,
                                         Tensor saveInvStd) {
        libraries.batchNormForwardTraining(x, gamma, beta, y, runningMean, runningVar, momentum, eps, saveMean,
                saveInvStd);
    }

    @Override
    public void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                          Tensor y) {
        if (x.numel() == 0) return; // an empty batch: nothing to write, and cuDNN rejects a zero dimension
        libraries.batchNormForwardInference(x, gamma, beta, mean, var, eps, y);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        if (x.numel() == 0) { // an empty batch contributes nothing to the parameters' gradients
            if (dgamma != null) fill(dgamma, 0);
            if (dbeta != null) fill(dbeta, 0);
            return;
        }
        libraries.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    @Override
    public void batchNormBackwardInference(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, double eps,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        long batch = x.dim(0);
        long channels = x.dim(1);
        long inner = batch * channels == 0 ? 0 : x.numel() / (batch * channels);
        if (dgamma != null || dbeta != null) {
            kernels.bnInferenceBackwardParamsF32(address(x), address(dy), address(mean), address(var), (float) eps,
                    addressOrNull(dgamma), addressOrNull(dbeta), batch, channels, inner);
        }
        if (dx != null) {
            kernels.bnInferenceBackwardDataF32(address(dy), address(gamma), address(var), (float) eps, address(dx),
                    channels, inner, dx.numel());
        }
    }

    // ------------------------------------------------------------------ pooling

    @Override
    public void maxPool2dForward(Tensor x, Tensor y, Pool2dSpec spec) {
        kernels.maxPool2dForwardF32(address(x), address(y), (long) x.dim(0) * x.dim(1), x.dim(2), x.dim(3),
                y.dim(2), y.dim(3), spec.kernel(), spec.stride(), spec.padding());
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, Pool2dSpec spec) {
        kernels.maxPool2dBackwardF32(address(x), address(dy), address(dx), (long) x.dim(0) * x.dim(1), x.dim(2),
                x.dim(3), dy.dim(2), dy.dim(3), spec.kernel(), spec.stride(), spec.padding());
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        kernels.globalAvgPoolForwardF32(address(x), address(y), (long) x.dim(0) * x.dim(1),
                (long) x.dim(2) * x.dim(3));
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        kernels.globalAvgPoolBackwardF32(address(dy), address(dx), (long) dx.dim(0) * dx.dim(1),
                (long) dx.dim(2) * dx.dim(3));
    }

    // ------------------------------------------------------------------ softmax and loss

    @Override
    public void softmax(Tensor x, Tensor y) {
        if (y.numel() == 0) return;
        libraries.softmax(x, y);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        if (dx.numel() == 0) return;
        libraries.softmaxBackward(y, dy, dx);
    }

    @Override
    public void softmaxCrossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor rowLoss) {
        long rows = logits.dim(0);
        int classes = logits.dim(1);
        if (targets.dtype() == DType.I32) {
            requireLabelsBelow(targets, classes);
            kernels.softmaxCeForwardIndexF32(address(logits), address(targets), address(probs), address(rowLoss),
                    rows, classes);
        } else {
            kernels.softmaxCeForwardDistF32(address(logits), address(targets), address(probs), address(rowLoss),
                    rows, classes);
        }
    }

    /**
     * A kernel cannot throw, and an out-of-range label would only turn its row's loss into NaN. So the labels (one
     * int per row) are read back and checked here, with the CPU backend's message. The read waits for the queued
     * forward pass; a training step waits for the loss a moment later anyway, so it costs only the latency of the
     * loss kernels queued after the wait.
     */
    private void requireLabelsBelow(Tensor labels, int classes) {
        int[] values = readInts(labels);
        for (int row = 0; row < values.length; row++) {
            if (values[row] < 0 || values[row] >= classes) {
                throw new IndexOutOfBoundsException("cross-entropy: target " + values[row] + " of row " + row
                        + " is outside [0, " + classes + ")");
            }
        }
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor targets, double scale, Tensor dlogits) {
        if (targets.dtype() == DType.I32) {
            kernels.softmaxCeBackwardIndexF32(address(probs), address(targets), (float) scale, address(dlogits),
                    probs.dim(1), probs.numel());
        } else {
            kernels.softmaxCeBackwardDistF32(address(probs), address(targets), (float) scale, address(dlogits),
                    probs.numel());
        }
    }

    // ------------------------------------------------------------------ optimizers

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamConfig c) {
        // Every constant in double on the host, then rounded once, as the CPU backend and torch.optim.Adam do:
        // 1 - 0.999f computed in float would be off by 1.3e-5 relative.
        double lr = c.lr(), wd = c.weightDecay();
        double biasCorrection1 = 1 - Math.pow(c.beta1(), c.step());
        double biasCorrection2 = 1 - Math.pow(c.beta2(), c.step());
        kernels.adamStepF32(address(param), address(grad), address(m), address(v), (float) c.beta1(),
                (float) (1 - c.beta1()), (float) c.beta2(), (float) (1 - c.beta2()), (float) c.eps(),
                (float) (c.decoupled() ? 0 : wd), (float) (c.decoupled() ? 1 - lr * wd : 1),
                (float) (lr / biasCorrection1), (float) (1 / Math.sqrt(biasCorrection2)), param.numel());
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay,
                        boolean firstStep) {
        if (momentum != 0 && buf == null) throw new IllegalArgumentException("sgd: momentum " + momentum + " needs a buffer");
        kernels.sgdStepF32(address(param), address(grad), momentum == 0 ? 0 : address(buf), (float) lr,
                (float) momentum, (float) weightDecay, firstStep, param.numel());
    }

    // ------------------------------------------------------------------ lifetime

    /** Frees the cached memory, kernel modules and library handles. Tensors still alive become invalid. */
    @Override
    public void close() {
        try {
            synchronize();
            uploads.close();
        } finally {
            launcher.close();
            memory.close();
            device.close();
        }
    }

    @Override
    public String toString() {
        return "CudaBackend[" + device.name() + (config.tf32() ? ", TF32" : "") + "]";
    }
}
