package dev.kiln.cuda;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Tensor;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.FloatPointer;

import static dev.kiln.cuda.CudaTensors.address;
import static dev.kiln.cuda.DevicePointers.at;

/**
 * 2-D convolution with cuDNN: forward, backward-data and backward-filter. The algorithm for each shape is chosen
 * once by {@code cudnnFind…AlgorithmEx}, which times every candidate on the real buffers (it overwrites the output,
 * which the call then overwrites again), within the workspace budget of {@link CudaConfig#workspaceBytes()}.
 *
 * <p>Math: without TF32 the descriptor asks for {@code CUDNN_FMA_MATH} (plain float), because cuDNN's default
 * lets float convolutions use TF32 tensor cores on Ampere and later.
 */
final class CudnnConvolution {
    private final CudaDevice device;
    private final CachingDeviceAllocator memory;
    private final CudaConfig config;
    private final ConvAlgorithmCache algorithms = new ConvAlgorithmCache();

    CudnnConvolution(CudaDevice device, CachingDeviceAllocator memory, CudaConfig config) {
        this.device = device;
        this.memory = memory;
        this.config = config;
    }

    ConvAlgorithmCache algorithms() {
        return algorithms;
    }

    /** y = conv2d(x, w); x (N, C, H, W), w (K, C, R, S), y (N, K, P, Q). */
    void forward(Tensor x, Tensor w, Tensor y, Conv2dSpec spec) {
        String context = "conv2dForward x" + x.shape() + " w" + w.shape() + " " + spec;
        try (Geometry g = new Geometry(x, w, y, spec)) {
            ConvAlgorithmCache.Choice choice = algorithms.get(g.key(ConvAlgorithmCache.Pass.FORWARD, address(x), address(w), address(y)),
                    () -> findForward(g, address(x), address(w), address(y), context));
            g.conv.setMathType(choice.mathType());
            try (Workspace ws = new Workspace(memory, choice.workspaceBytes(), context);
                 FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
                CudaStatus.check("cudnnConvolutionForward", cudnn.cudnnConvolutionForward(device.cudnn(), one,
                        g.x.handle, at(address(x)), g.w.handle, at(address(w)), g.conv.handle, choice.algorithm(),
                        at(ws.address()), ws.bytes(), zero, g.y.handle, at(address(y))), context);
            }
        }
    }

    /** dx = gradient of conv2d with respect to x. */
    void backwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        String context = "conv2dBackwardData dy" + dy.shape() + " w" + w.shape() + " " + spec;
        try (Geometry g = new Geometry(dx, w, dy, spec)) {
            ConvAlgorithmCache.Choice choice = algorithms.get(g.key(ConvAlgorithmCache.Pass.BACKWARD_DATA, address(w), address(dy),
                            address(dx)),
                    () -> findBackwardData(g, address(w), address(dy), address(dx), context));
            g.conv.setMathType(choice.mathType());
            try (Workspace ws = new Workspace(memory, choice.workspaceBytes(), context);
                 FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
                CudaStatus.check("cudnnConvolutionBackwardData", cudnn.cudnnConvolutionBackwardData(device.cudnn(),
                        one, g.w.handle, at(address(w)), g.y.handle, at(address(dy)), g.conv.handle,
                        choice.algorithm(), at(ws.address()), ws.bytes(), zero, g.x.handle, at(address(dx))), context);
            }
        }
    }

    /** dw = gradient of conv2d with respect to w (overwritten, not accumulated). */
    void backwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        String context = "conv2dBackwardFilter x" + x.shape() + " dy" + dy.shape() + " " + spec;
        try (Geometry g = new Geometry(x, dw, dy, spec)) {
            ConvAlgorithmCache.Choice choice = algorithms.get(g.key(ConvAlgorithmCache.Pass.BACKWARD_FILTER, address(x), address(dy),
                            address(dw)),
                    () -> findBackwardFilter(g, address(x), address(dy), address(dw), context));
            g.conv.setMathType(choice.mathType());
            try (Workspace ws = new Workspace(memory, choice.workspaceBytes(), context);
                 FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
                CudaStatus.check("cudnnConvolutionBackwardFilter", cudnn.cudnnConvolutionBackwardFilter(device.cudnn(),
                        one, g.x.handle, at(address(x)), g.y.handle, at(address(dy)), g.conv.handle,
                        choice.algorithm(), at(ws.address()), ws.bytes(), zero, g.w.handle, at(address(dw))), context);
            }
        }
    }

    // ------------------------------------------------------------------ algorithm search (once per key)

    private ConvAlgorithmCache.Choice findForward(Geometry g, long x, long w, long y, String context) {
        int requested = cudnn.CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
        int[] returned = new int[1];
        try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(requested);
             Workspace ws = Workspace.forSearch(this, context)) {
            CudaStatus.check("cudnnFindConvolutionForwardAlgorithmEx", cudnn.cudnnFindConvolutionForwardAlgorithmEx(
                    device.cudnn(), g.x.handle, at(x), g.w.handle, at(w), g.conv.handle, g.y.handle, at(y),
                    requested, returned, perf, at(ws.address()), ws.bytes()), context);
            for (int i = 0; i < returned[0]; i++) {
                cudnnConvolutionFwdAlgoPerf_t p = perf.getPointer(i);
                if (acceptable(p.status(), p.memory(), p.determinism())) {
                    return new ConvAlgorithmCache.Choice(p.algo(), p.memory(), p.mathType());
                }
            }
        }
        throw noAlgorithm("cudnnFindConvolutionForwardAlgorithmEx", context);
    }

    private ConvAlgorithmCache.Choice findBackwardData(Geometry g, long w, long dy, long dx, String context) {
        int requested = cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
        int[] returned = new int[1];
        try (cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(requested);
             Workspace ws = Workspace.forSearch(this, context)) {
            CudaStatus.check("cudnnFindConvolutionBackwardDataAlgorithmEx",
                    cudnn.cudnnFindConvolutionBackwardDataAlgorithmEx(device.cudnn(), g.w.handle, at(w), g.y.handle,
                            at(dy), g.conv.handle, g.x.handle, at(dx), requested, returned, perf, at(ws.address()),
                            ws.bytes()), context);
            for (int i = 0; i < returned[0]; i++) {
                cudnnConvolutionBwdDataAlgoPerf_t p = perf.getPointer(i);
                if (acceptable(p.status(), p.memory(), p.determinism())) {
                    return new ConvAlgorithmCache.Choice(p.algo(), p.memory(), p.mathType());
                }
            }
        }
        throw noAlgorithm("cudnnFindConvolutionBackwardDataAlgorithmEx", context);
    }

    private ConvAlgorithmCache.Choice findBackwardFilter(Geometry g, long x, long dy, long dw, String context) {
        int requested = cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
        int[] returned = new int[1];
        try (cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(requested);
             Workspace ws = Workspace.forSearch(this, context)) {
            CudaStatus.check("cudnnFindConvolutionBackwardFilterAlgorithmEx",
                    cudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx(device.cudnn(), g.x.handle, at(x), g.y.handle,
                            at(dy), g.conv.handle, g.w.handle, at(dw), requested, returned, perf, at(ws.address()),
                            ws.bytes()), context);
            for (int i = 0; i < returned[0]; i++) {
                cudnnConvolutionBwdFilterAlgoPerf_t p = perf.getPointer(i);
                if (acceptable(p.status(), p.memory(), p.determinism())) {
                    return new ConvAlgorithmCache.Choice(p.algo(), p.memory(), p.mathType());
                }
            }
        }
        throw noAlgorithm("cudnnFindConvolutionBackwardFilterAlgorithmEx", context);
    }

    /** Results come sorted fastest first; take the first that ran, fits the budget and meets the determinism wish. */
    private boolean acceptable(int status, long workspace, int determinism) {
        return status == cudnn.CUDNN_STATUS_SUCCESS && workspace <= config.workspaceBytes()
                && (!config.deterministic() || determinism == cudnn.CUDNN_DETERMINISTIC);
    }

    private CudaException noAlgorithm(String api, String context) {
        return new CudaException(api, "no algorithm", api + " found no usable algorithm within a workspace of "
                + CudaStatus.formatBytes(config.workspaceBytes()) + (config.deterministic() ? ", deterministic" : "")
                + " (" + context + ")\nHINT: raise -Dkiln.cuda.workspaceMB, or free GPU memory with a smaller batch.");
    }

    // ------------------------------------------------------------------ helpers

    /** The descriptors of one convolution: input side x, filter w, output side y. */
    private final class Geometry implements AutoCloseable {
        final int[] xd;
        final int[] wd;
        final Conv2dSpec spec;
        final CudnnDescriptors.Tensor4d x;
        final CudnnDescriptors.Filter4d w;
        final CudnnDescriptors.Tensor4d y;
        final CudnnDescriptors.Convolution2d conv;

        Geometry(Tensor input, Tensor weight, Tensor output, Conv2dSpec spec) {
            this.xd = input.shape().toArray();
            this.wd = weight.shape().toArray();
            this.spec = spec;
            this.x = new CudnnDescriptors.Tensor4d(xd);
            this.w = new CudnnDescriptors.Filter4d(wd[0], wd[1], wd[2], wd[3]);
            this.y = new CudnnDescriptors.Tensor4d(output.shape().toArray());
            int math = config.tf32() ? cudnn.CUDNN_DEFAULT_MATH : cudnn.CUDNN_FMA_MATH;
            this.conv = new CudnnDescriptors.Convolution2d(spec.padH(), spec.padW(), spec.strideH(), spec.strideW(), math);
        }

        /** The cache key of this geometry in {@code pass}, for the buffers at {@code addresses}. */
        ConvAlgorithmCache.Key key(ConvAlgorithmCache.Pass pass, long... addresses) {
            return new ConvAlgorithmCache.Key(pass, xd[0], xd[1], xd[2], xd[3], wd[0], wd[2], wd[3], spec.strideH(),
                    spec.strideW(), spec.padH(), spec.padW(), config.tf32(), config.deterministic(),
                    ConvAlgorithmCache.alignment(addresses));
        }

        @Override
        public void close() {
            conv.close();
            y.close();
            w.close();
            x.close();
        }
    }

    /** Scratch device memory from the caching allocator, returned when closed (0 bytes: NULL, nothing allocated). */
    private static final class Workspace implements AutoCloseable {
        private final CachingDeviceAllocator memory;
        private final CachingDeviceAllocator.Block block;

        Workspace(CachingDeviceAllocator memory, long bytes, String context) {
            this.memory = memory;
            this.block = bytes > 0 ? memory.allocate(bytes, context + " workspace") : null;
        }

        /**
         * The workspace for an algorithm search: the whole budget if it fits, else the largest power-of-two
         * fraction of it that does, down to 1 MiB, and finally none at all (algorithms needing more are then
         * skipped by cuDNN; implicit-GEMM ones need none).
         */
        static Workspace forSearch(CudnnConvolution owner, String context) {
            long bytes = owner.config.workspaceBytes();
            while (bytes >= (1L << 20)) {
                try {
                    return new Workspace(owner.memory, bytes, context);
                } catch (CudaException e) {
                    if (!e.isOutOfMemory()) throw e;
                    bytes /= 2;
                }
            }
            return new Workspace(owner.memory, 0, context);
        }

        long address() {
            return block == null ? 0 : block.address();
        }

        long bytes() {
            return block == null ? 0 : block.bytes();
        }

        @Override
        public void close() {
            if (block != null) memory.release(block);
        }
    }
}
