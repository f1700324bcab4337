package dev.kiln.cuda;

/**
 * Runs one kernel of one source file over a 1-D grid: {@link CudaModules} on a GPU; in tests, a recorder or a host
 * emulation.
 */
interface KernelLauncher extends AutoCloseable {
    void launch(String file, String kernel, int gridX, int blockX, KernelArgs args);

    /** Releases compiled modules, where there are any. */
    @Override
    default void close() {
    }
}
