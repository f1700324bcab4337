package dev.kiln.cuda;

/** The conformance suite on a GPU, through cuDNN, cuBLAS and NVRTC-compiled kernels. */
class CudaConformanceTest extends CudaConformanceSuite {
    private static final CudaBackendProvider PROVIDER = new CudaBackendProvider();

    @Override
    CudaBackend backend() {
        return (CudaBackend) PROVIDER.create().orElse(null);
    }

    @Override
    String unavailableReason() {
        return "CUDA backend unavailable: " + PROVIDER.unavailableReason();
    }

    @Override
    boolean runsNvidiaLibraries() {
        return true;
    }
}
