package dev.kiln.cuda;

/**
 * The conformance suite without a GPU: CudaBackend with Kiln's kernels on the host emulation, and the CPU backend
 * standing in for cuDNN and cuBLAS ({@link EmulatedCudaBackendProvider}).
 */
class EmulatedCudaConformanceTest extends CudaConformanceSuite {
    private static final EmulatedCudaBackendProvider PROVIDER = new EmulatedCudaBackendProvider();

    @Override
    CudaBackend backend() {
        return (CudaBackend) PROVIDER.create().orElse(null);
    }

    @Override
    String unavailableReason() {
        return "host emulation unavailable: " + PROVIDER.unavailableReason();
    }

    @Override
    boolean runsNvidiaLibraries() {
        return false;
    }
}
