package dev.kiln.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JNI binding of {@code src/test/cpp/kiln_emulated_kernels.h}: Kiln's CUDA C kernels compiled for the host
 * with g++ (Maven profile {@code host-emulation}, on where {@code /usr/bin/g++} exists), so that tests run them on
 * machines without a GPU. Where the library was not built, {@link #UNAVAILABLE} says why and those tests skip.
 */
@Platform(include = "kiln_emulated_kernels.h")
final class HostKernels {
    /** Null when the emulated kernels loaded, else the reason they did not. */
    static final String UNAVAILABLE = load();

    private HostKernels() {
    }

    private static String load() {
        try {
            Loader.load();
            return null;
        } catch (Throwable t) {
            return "the host emulation of the CUDA kernels is not built (it needs g++; Maven profile host-emulation): " + t;
        }
    }

    /**
     * Runs {@code kernel} over {@code grid} blocks of {@code block} threads with cuLaunchKernel's argument array.
     * Returns null, or why the launch failed (unknown kernel, a barrier a GPU would hang at).
     */
    static String launch(String kernel, int grid, int block, PointerPointer<?> args) {
        BytePointer error = emulateLaunch(kernel, grid, block, args);
        return error == null || error.isNull() ? null : error.getString();
    }

    /** Every kernel the emulation knows, by name. */
    static String[] kernelNames() {
        return emulatedKernelNames().getString().trim().split(" ");
    }

    @Name("kiln_emulate_launch")
    private static native @Cast("const char*") BytePointer emulateLaunch(String kernel, int grid, int block,
                                                                       @Cast("void**") PointerPointer<?> args);

    @Name("kiln_emulated_kernel_names")
    private static native @Cast("const char*") BytePointer emulatedKernelNames();
}
