package dev.kiln.cuda;

import dev.kiln.backend.Backend;
import dev.kiln.backend.BackendProvider;

import java.util.Optional;

/**
 * Announces the "cuda" backend to {@link java.util.ServiceLoader}. Constructing it touches no native code;
 * {@link #create()} probes the CUDA stack once per process, opens the GPU once, and remembers either the backend
 * or the reason it cannot run (no driver, no GPU, a missing library), never throwing.
 */
public final class CudaBackendProvider implements BackendProvider {
    private static Optional<Backend> created;
    private static String reason = "";

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Optional<Backend> create() {
        synchronized (CudaBackendProvider.class) {
            if (created == null) created = open();
            return created;
        }
    }

    @Override
    public String unavailableReason() {
        synchronized (CudaBackendProvider.class) {
            if (created == null) created = open();
            return reason;
        }
    }

    private static Optional<Backend> open() {
        CudaLibraries.Verdict verdict = CudaLibraries.probe();
        if (!verdict.available()) {
            reason = verdict.reason();
            return Optional.empty();
        }
        try {
            return Optional.of(new CudaBackend(CudaConfig.fromSystemProperties()));
        } catch (Throwable t) {
            reason = "the CUDA backend failed to start: " + t;
            return Optional.empty();
        }
    }
}
