package dev.kiln.backend;

import java.util.Optional;

/**
 * How a backend module announces itself to {@link java.util.ServiceLoader} (listed in
 * {@code META-INF/services/dev.kiln.backend.BackendProvider}). A provider must be cheap to construct and must not
 * throw: {@link #create()} reports why the backend cannot run here (no GPU, missing library) instead.
 */
public interface BackendProvider {

    /** The name users select the backend by, such as "cpu" or "cuda". */
    String name();

    /** Higher wins for {@code --device auto}. The CPU is 0, accelerators above it. */
    int priority();

    /** The backend, or an empty result with {@link #unavailableReason()} set when it cannot run on this machine. */
    Optional<Backend> create();

    /** Why {@link #create()} came back empty, for the one log line that says so. */
    String unavailableReason();
}
