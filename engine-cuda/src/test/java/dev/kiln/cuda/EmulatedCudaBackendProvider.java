package dev.kiln.cuda;

import dev.kiln.backend.Backend;
import dev.kiln.backend.BackendProvider;

import java.util.Optional;

/**
 * The "cuda-emulated" backend, on the test class path only: {@link CudaBackend}'s own code with its kernels run by
 * the host emulation ({@link HostKernels}), device memory and its stream in {@link HostDevice}, and cuDNN and
 * cuBLAS replaced by the CPU backend ({@link CpuLibraries}). engine-core's shared suites run on it here, so every Kiln kernel and every line
 * of the backend's glue is exercised on machines without a GPU. Its priority is below the CPU's: it is never
 * picked by {@code auto}.
 */
public final class EmulatedCudaBackendProvider implements BackendProvider {
    private static Optional<Backend> created;

    @Override
    public String name() {
        return "cuda-emulated";
    }

    @Override
    public int priority() {
        return -100;
    }

    @Override
    public Optional<Backend> create() {
        synchronized (EmulatedCudaBackendProvider.class) {
            if (created == null) created = HostKernels.UNAVAILABLE == null ? Optional.of(open()) : Optional.empty();
            return created;
        }
    }

    /** A new emulated backend, for tests that want one of their own. */
    static CudaBackend open() {
        HostDevice device = new HostDevice();
        return new CudaBackend(CudaConfig.fromSystemProperties(), device, new EmulatedKernelLauncher(device),
                allocator -> new CpuLibraries(device));
    }

    @Override
    public String unavailableReason() {
        return HostKernels.UNAVAILABLE == null ? "" : HostKernels.UNAVAILABLE;
    }
}
