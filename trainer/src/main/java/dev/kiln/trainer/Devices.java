package dev.kiln.trainer;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;

/** Resolves --device (auto, cpu, cuda, …) to a backend, with a one-line error naming what is available. */
public final class Devices {
    private Devices() {
    }

    public static Backend select(String device) {
        try {
            return Backends.get(device);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new UserInputException("--device " + device + ": " + e.getMessage());
        }
    }
}
