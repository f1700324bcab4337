package dev.kiln.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.Loader;

/**
 * Whether the CUDA stack can run in this process, decided once and cached: the driver and runtime, a device,
 * then cuBLAS, cuDNN and NVRTC, each loaded on its own so that the reason names the one that is missing.
 *
 * <p>Without a driver, loading JavaCPP's cudart bindings throws {@link UnsatisfiedLinkError} (libcuda.so.1 is
 * missing), and every later use of the class throws {@link NoClassDefFoundError}; hence one attempt, and
 * {@code Throwable} caught.
 */
final class CudaLibraries {

    /** The outcome: available, or not and why. */
    record Verdict(boolean available, String reason) {
        static Verdict no(String reason) {
            return new Verdict(false, reason);
        }
    }

    private static Verdict verdict;

    private CudaLibraries() {
    }

    static synchronized Verdict probe() {
        if (verdict == null) verdict = probeOnce();
        return verdict;
    }

    private static Verdict probeOnce() {
        try {
            Loader.load(cudart.class);
        } catch (Throwable t) {
            return Verdict.no(runtimeFailure(t));
        }
        try {
            int[] count = new int[1];
            int status = cudart.cudaGetDeviceCount(count);
            if (status != 0) {
                return Verdict.no("no usable CUDA device: cudaGetDeviceCount returned "
                        + CudaStatus.statusName("cudaGetDeviceCount", status));
            }
            if (count[0] == 0) return Verdict.no("no CUDA device: cudaGetDeviceCount found 0 GPUs");
        } catch (Throwable t) {
            return Verdict.no("CUDA runtime failed: " + describe(t));
        }
        String missing = firstMissing();
        return missing == null ? new Verdict(true, "") : Verdict.no(missing);
    }

    private static String firstMissing() {
        String[][] libraries = {
                {"cuBLAS", "libcublas.so.13 and libcublasLt.so.13 (pip: nvidia-cublas)"},
                {"cuDNN", "libcudnn*.so.9 (pip: nvidia-cudnn-cu13)"},
                {"NVRTC", "libnvrtc.so.13 (pip: nvidia-cuda-nvrtc)"}};
        Class<?>[] classes = {cublas.class, cudnn.class, nvrtc.class};
        for (int i = 0; i < classes.length; i++) {
            try {
                Loader.load(classes[i]);
            } catch (Throwable t) {
                return libraries[i][0] + " not found: needs " + libraries[i][1] + " on LD_LIBRARY_PATH ("
                        + describe(t) + ")";
            }
        }
        return null;
    }

    /** The reason for a failed runtime load, naming the driver when that is what is missing. */
    private static String runtimeFailure(Throwable t) {
        String all = chain(t);
        if (all.contains("libcuda.so")) return "no CUDA driver: libcuda.so.1 not found";
        if (all.contains("libcudart.so")) return "no CUDA runtime: libcudart.so.13 not found on LD_LIBRARY_PATH";
        return "CUDA runtime could not be loaded: " + describe(t);
    }

    private static String chain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) sb.append(c).append('\n');
        return sb.toString();
    }

    private static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null) root = root.getCause();
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
