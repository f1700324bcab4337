package dev.kiln.cuda;

import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Kiln's own CUDA C kernels, shipped as source in the jar ({@code dev/kiln/cuda/kernels/*.cu}) and compiled with
 * NVRTC the first time a kernel of that file is launched. Each file becomes one driver module.
 */
final class CudaModules implements KernelLauncher, AutoCloseable {
    private static final String RESOURCE_DIR = "/dev/kiln/cuda/kernels/";

    private final CudaDevice device;
    private final NvrtcCompiler compiler;
    private final boolean synchronizeKernels;
    private final Map<String, CUmod_st> modules = new HashMap<>();
    private final Map<String, CUfunc_st> functions = new HashMap<>();

    CudaModules(CudaDevice device, boolean synchronizeKernels) {
        this.device = device;
        this.compiler = new NvrtcCompiler(device.computeCapability());
        this.synchronizeKernels = synchronizeKernels;
    }

    /** Launches {@code kernel} from {@code file} (such as "pool.cu") on the default stream. */
    @Override
    public void launch(String file, String kernel, int gridX, int blockX, KernelArgs args) {
        if (gridX <= 0) return;  // nothing to do, and a grid of 0 blocks is an error
        CUfunc_st function = function(file, kernel);
        device.bind();
        CudaStatus.check("cuLaunchKernel", cudart.cuLaunchKernel(function, gridX, 1, 1, blockX, 1, 1, 0,
                (CUstream_st) null, args.pointers(), (PointerPointer<?>) null), "kernel " + kernel);
        if (synchronizeKernels) device.synchronize("kernel " + kernel + " (kiln.cuda.debugSync)");
    }

    private synchronized CUfunc_st function(String file, String kernel) {
        CUfunc_st function = functions.get(kernel);
        if (function != null) return function;
        CUmod_st module = modules.computeIfAbsent(file, this::load);
        function = new CUfunc_st();
        CudaStatus.check("cuModuleGetFunction", cudart.cuModuleGetFunction(function, module, kernel),
                "kernel " + kernel + " in " + file);
        functions.put(kernel, function);
        return function;
    }

    private CUmod_st load(String file) {
        NvrtcCompiler.Image image = compiler.compile(file, readSource(file));
        device.bind();
        CUmod_st module = new CUmod_st();
        try (BytePointer bytes = new BytePointer(image.bytes())) {
            CudaStatus.check("cuModuleLoadData", cudart.cuModuleLoadData(module, bytes),
                    "loading " + file + " compiled for " + image.architecture());
        }
        return module;
    }

    static String readSource(String file) {
        try (InputStream in = CudaModules.class.getResourceAsStream(RESOURCE_DIR + file)) {
            if (in == null) throw new IllegalStateException("kernel source " + RESOURCE_DIR + file + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + file, e);
        }
    }

    @Override
    public synchronized void close() {
        for (CUmod_st module : modules.values()) cudart.cuModuleUnload(module);
        modules.clear();
        functions.clear();
    }
}
