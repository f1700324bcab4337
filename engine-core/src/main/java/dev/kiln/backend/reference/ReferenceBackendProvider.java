package dev.kiln.backend.reference;

import dev.kiln.backend.Backend;
import dev.kiln.backend.BackendProvider;

import java.util.Optional;

/**
 * Announces the reference backend to {@link java.util.ServiceLoader}. Its priority is below the CPU's (0), so
 * {@code --device auto} never chooses it while a real backend is present; it is selected by name, "reference".
 */
public final class ReferenceBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public int priority() {
        return -100;
    }

    @Override
    public Optional<Backend> create() {
        return Optional.of(ReferenceBackend.get()); // plain Java: it runs everywhere
    }

    @Override
    public String unavailableReason() {
        return "none: the reference backend is always available";
    }
}
