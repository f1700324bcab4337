package dev.kiln.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Finds backends through {@link ServiceLoader}. Each backend is created at most once per process, and a backend
 * that cannot run (no GPU) is remembered as unavailable rather than retried.
 */
public final class Backends {
    private static final Logger LOG = Logger.getLogger(Backends.class.getName());
    private static final Map<String, Optional<Backend>> CREATED = new ConcurrentHashMap<>();
    private static final Map<String, String> UNAVAILABLE = new ConcurrentHashMap<>();
    private static volatile Backend defaultBackend;

    private Backends() {
    }

    /** Every provider on the class path, best first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(list::add);
        list.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        return list;
    }

    /** The backend called {@code name}, if its provider is present and it can run here. */
    public static Optional<Backend> find(String name) {
        return CREATED.computeIfAbsent(name, n -> {
            for (BackendProvider p : providers()) {
                if (p.name().equals(n)) {
                    Optional<Backend> b = p.create();
                    if (b.isEmpty()) {
                        UNAVAILABLE.put(n, p.unavailableReason());
                        LOG.info("backend '" + n + "' is unavailable: " + p.unavailableReason());
                    }
                    return b;
                }
            }
            return Optional.empty();
        });
    }

    /** The backend called {@code name}, or an exception that lists what is available. */
    public static Backend get(String name) {
        if (name.equals("auto")) return best();
        return find(name).orElseThrow(() -> {
            List<String> runnable = providers().stream().map(BackendProvider::name).filter(n -> find(n).isPresent())
                    .toList();
            String why = UNAVAILABLE.containsKey(name) ? "cannot run here (" + UNAVAILABLE.get(name) + ")"
                    : "is not on the class path";
            return new IllegalArgumentException("backend '" + name + "' " + why + "; available: " + runnable);
        });
    }

    /** The highest-priority backend that can run here, logging once when an accelerator is skipped. */
    public static Backend best() {
        for (BackendProvider p : providers()) {
            Optional<Backend> b = find(p.name());
            if (b.isPresent()) return b.get();
        }
        throw new IllegalStateException("no Kiln backend can run here; is engine-core on the class path?");
    }

    /** Backends that were tried and cannot run here, by name, with the reason (for example no CUDA driver). */
    public static Map<String, String> unavailable() {
        return Map.copyOf(UNAVAILABLE);
    }

    /** The backend used by convenience factories such as {@code Tensor.of(float[], int...)}: the CPU unless set. */
    public static Backend defaultBackend() {
        Backend b = defaultBackend;
        if (b == null) {
            b = get("cpu");
            defaultBackend = b;
        }
        return b;
    }

    public static void setDefaultBackend(Backend backend) {
        defaultBackend = backend;
    }
}
