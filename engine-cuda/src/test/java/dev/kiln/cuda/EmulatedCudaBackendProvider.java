package dev.kiln.cuda;

import dev.kiln.backend.Backend;
import dev.kiln.backend.BackendProvider;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The "cuda-emulated" backend, on the test class path only: {@link CudaBackend}'s own code with its kernels run by
 * the host emulation ({@link HostKernels}), device memory and its stream in {@link HostDevice}, and cuDNN and
 * cuBLAS replaced by the CPU backend ({@link CpuLibraries}). engine-core's shared suites and the trainer's tests run
 * on it, so every Kiln kernel and every line of the backend's glue is exercised on machines without a GPU. Its
 * priority is below the CPU's: it is never picked by {@code auto}.
 */
public class EmulatedCudaBackendProvider implements BackendProvider {
    /** One backend per name, made on first use and kept for the process, as the real provider does. */
    private static final Map<String, Optional<Backend>> CREATED = new HashMap<>();

    private final String name;
    private final long deviceBytes;

    public EmulatedCudaBackendProvider() {
        this("cuda-emulated", Long.MAX_VALUE);
    }

    /** An emulated GPU called {@code name} with {@code deviceBytes} of memory. */
    protected EmulatedCudaBackendProvider(String name, long deviceBytes) {
        this.name = name;
        this.deviceBytes = deviceBytes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int priority() {
        return -100;
    }

    @Override
    public Optional<Backend> create() {
        synchronized (CREATED) {
            return CREATED.computeIfAbsent(name, n -> HostKernels.UNAVAILABLE == null
                    ? Optional.of(open(new HostDevice(true, deviceBytes))) : Optional.empty());
        }
    }

    /** A new emulated backend on the given device, for tests that want one of their own. */
    static CudaBackend open(HostDevice device) {
        CudaConfig config = CudaConfig.fromSystemProperties();
        return new CudaBackend(config, device, new EmulatedKernelLauncher(device, config.synchronizeKernels()),
                allocator -> new CpuLibraries(device));
    }

    @Override
    public String unavailableReason() {
        return HostKernels.UNAVAILABLE == null ? "" : HostKernels.UNAVAILABLE;
    }

    /** "cuda-emulated-64mib": a GPU too small to fine-tune on, for tests of the out-of-memory path. */
    public static final class WithSmallMemory extends EmulatedCudaBackendProvider {
        public WithSmallMemory() {
            super("cuda-emulated-64mib", 64L << 20);
        }
    }
}
