package dev.kiln.backend.cpu;

import dev.kiln.backend.Backend;
import dev.kiln.backend.BackendProvider;

import java.util.Optional;

/** Announces the CPU backend ("cpu", priority 0) to {@link java.util.ServiceLoader}. */
public final class CpuBackendProvider implements BackendProvider {
    private volatile String unavailableReason = "";

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Optional<Backend> create() {
        try {
            return Optional.of(CpuBackend.get());
        } catch (Throwable t) { // OpenBLAS natives that fail to load surface as linkage errors
            unavailableReason = "OpenBLAS could not be loaded: " + t;
            return Optional.empty();
        }
    }

    @Override
    public String unavailableReason() {
        return unavailableReason;
    }
}
