package dev.kiln.cuda;

/** Runs one kernel of one source file; {@link CudaModules} on a GPU, a recorder in tests. */
interface KernelLauncher {
    void launch(String file, String kernel, int gridX, int blockX, KernelArgs args);
}
