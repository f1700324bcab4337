package dev.kiln.trainer;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;

/**
 * Resolves --device (auto, cpu, cuda, …) to a backend, with a one-line error naming what is available. For
 * {@code auto}, an accelerator that cannot run here is reported in one line on stderr, with its reason, and the
 * next best backend is used.
 */
public final class Devices {
    private Devices() {
    }

    public static Backend select(String device) {
        try {
            Backend backend = Backends.get(device);
            if (device.equals("auto")) {
                Backends.unavailable().forEach((name, reason) -> System.err.println(
                        "kiln: backend '" + name + "' is unavailable (" + reason + "); using '" + backend.name() + "'"));
            }
            return backend;
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new UserInputException("--device " + device + ": " + e.getMessage());
        }
    }
}
