package dev.kiln.cuda;

import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Compiles CUDA C source to a loadable image with NVRTC, for the GPU at hand.
 *
 * <p>When NVRTC knows the device's architecture it produces a CUBIN for it ({@code sm_90} on an H100/H200), which
 * the driver loads as is. For a device newer than this NVRTC, it produces PTX for the newest architecture it knows
 * ({@code compute_XX}), which the driver compiles forward.
 */
final class NvrtcCompiler {

    /** A compiled module image: CUBIN, or NUL-terminated PTX text. */
    record Image(byte[] bytes, boolean cubin, String architecture) {
    }

    private final int computeCapability;

    NvrtcCompiler(int computeCapability) {
        this.computeCapability = computeCapability;
    }

    Image compile(String fileName, String source) {
        String context = "compiling " + fileName + " with NVRTC";
        int[] supported = supportedArchitectures(context);
        int arch = -1;
        for (int a : supported) {
            if (a <= computeCapability) arch = Math.max(arch, a);
        }
        if (arch < 0) {
            throw new CudaException("nvrtcCompileProgram", "unsupported architecture", "this NVRTC supports "
                    + Arrays.toString(supported) + " but the GPU is sm_" + computeCapability + " (" + context + ")");
        }
        boolean cubin = arch == computeCapability;
        String archOption = "--gpu-architecture=" + (cubin ? "sm_" : "compute_") + arch;

        _nvrtcProgram program = new _nvrtcProgram();
        try (BytePointer src = new BytePointer(source, StandardCharsets.UTF_8);
             BytePointer name = new BytePointer(fileName, StandardCharsets.UTF_8)) {
            CudaStatus.check("nvrtcCreateProgram",
                    nvrtc.nvrtcCreateProgram(program, src, name, 0, (PointerPointer<?>) null, (PointerPointer<?>) null),
                    context);
        }
        try {
            // --fmad=false: every multiply and add rounds on its own, as in Java, so the kernels that follow the CPU
            // backend's order of operations (Adam, SGD) also give its results; NVRTC contracts them to FMA by default.
            String[] options = {archOption, "--std=c++17", "--fmad=false"};
            int status;
            try (PointerPointer<BytePointer> opts = new PointerPointer<>(options)) {
                status = nvrtc.nvrtcCompileProgram(program, options.length, opts);
            }
            if (status != 0) {
                String name = CudaStatus.statusName("nvrtcCompileProgram", status);
                throw new CudaException("nvrtcCompileProgram", name,
                        "nvrtcCompileProgram failed: " + name + " (" + context + ", " + archOption + ")\n" + log(program));
            }
            byte[] image = cubin ? cubin(program, context) : ptx(program, context);
            return new Image(image, cubin, archOption);
        } finally {
            nvrtc.nvrtcDestroyProgram(program);
        }
    }

    private static int[] supportedArchitectures(String context) {
        int[] count = new int[1];
        CudaStatus.check("nvrtcGetNumSupportedArchs", nvrtc.nvrtcGetNumSupportedArchs(count), context);
        int[] archs = new int[count[0]];
        CudaStatus.check("nvrtcGetSupportedArchs", nvrtc.nvrtcGetSupportedArchs(archs), context);
        return archs;
    }

    private static byte[] cubin(_nvrtcProgram program, String context) {
        try (SizeTPointer size = new SizeTPointer(1)) {
            CudaStatus.check("nvrtcGetCUBINSize", nvrtc.nvrtcGetCUBINSize(program, size), context);
            byte[] bytes = new byte[(int) size.get()];
            CudaStatus.check("nvrtcGetCUBIN", nvrtc.nvrtcGetCUBIN(program, bytes), context);
            return bytes;
        }
    }

    /** PTX text including its terminating NUL, as cuModuleLoadData expects. */
    private static byte[] ptx(_nvrtcProgram program, String context) {
        try (SizeTPointer size = new SizeTPointer(1)) {
            CudaStatus.check("nvrtcGetPTXSize", nvrtc.nvrtcGetPTXSize(program, size), context);
            byte[] bytes = new byte[(int) size.get()];
            CudaStatus.check("nvrtcGetPTX", nvrtc.nvrtcGetPTX(program, bytes), context);
            return bytes;
        }
    }

    private static String log(_nvrtcProgram program) {
        try (SizeTPointer size = new SizeTPointer(1)) {
            if (nvrtc.nvrtcGetProgramLogSize(program, size) != 0 || size.get() <= 1) return "(no compiler log)";
            byte[] bytes = new byte[(int) size.get()];
            nvrtc.nvrtcGetProgramLog(program, bytes);
            return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
        }
    }
}
