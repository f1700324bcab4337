package dev.kiln.cuda;

/**
 * Launches kernels on the host emulation ({@link HostKernels}), with the same arguments a GPU would get, after the
 * copies queued before them have run.
 */
final class EmulatedKernelLauncher implements KernelLauncher {
    private final HostMemory memory;

    EmulatedKernelLauncher(HostMemory memory) {
        this.memory = memory;
    }

    @Override
    public void launch(String file, String kernel, int gridX, int blockX, KernelArgs args) {
        if (gridX <= 0) return;  // as CudaModules: nothing to do
        memory.runQueued();
        String error = HostKernels.launch(kernel, gridX, blockX, args.pointers());
        if (error != null) throw new IllegalStateException(error + " (from " + file + ")");
    }
}
