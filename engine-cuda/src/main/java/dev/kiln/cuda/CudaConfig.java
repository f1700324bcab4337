package dev.kiln.cuda;

/**
 * The CUDA backend's switches, read once from system properties. Every default lives here.
 *
 * @param device             {@code kiln.cuda.device}: the GPU index (default 0)
 * @param tf32               {@code kiln.cuda.tf32}: allow TF32 tensor cores in cuBLAS and cuDNN (default false, so
 *                           results match the float32 CPU path; PyTorch's default for convolutions is true)
 * @param workspaceBytes     {@code kiln.cuda.workspaceMB}: the most scratch memory one convolution may use, and the
 *                           budget under which cuDNN's algorithm search runs (default 1024 MiB)
 * @param deterministic      {@code kiln.cuda.deterministic}: choose only deterministic convolution algorithms
 *                           (default false)
 * @param synchronizeKernels {@code kiln.cuda.debugSync}: wait for and check every kernel launch, so that an error
 *                           names the kernel that caused it (default false; slow)
 */
public record CudaConfig(int device, boolean tf32, long workspaceBytes, boolean deterministic,
                         boolean synchronizeKernels) {

    public static CudaConfig fromSystemProperties() {
        return new CudaConfig(
                Integer.getInteger("kiln.cuda.device", 0),
                Boolean.getBoolean("kiln.cuda.tf32"),
                Long.getLong("kiln.cuda.workspaceMB", 1024L) << 20,
                Boolean.getBoolean("kiln.cuda.deterministic"),
                Boolean.getBoolean("kiln.cuda.debugSync"));
    }
}
