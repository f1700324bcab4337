package dev.kiln.trainer;

import dev.kiln.backend.DeviceMemoryExhausted;

/**
 * When a device runs out of memory, says so in the user's terms: which batch size did not fit, and how to find one
 * that does. The backend's own message (the API, the size it asked for, the op) follows in parentheses.
 */
public final class OutOfMemoryAdvice {
    private OutOfMemoryAdvice() {
    }

    /**
     * {@code e} itself, or, when it is a device's out-of-memory failure, a {@link UserInputException} saying so;
     * {@code planCommand} (the {@code kiln plan} line for this run) is suggested when not null.
     */
    public static RuntimeException atBatchSize(RuntimeException e, int batch, String planCommand) {
        if (!(e instanceof DeviceMemoryExhausted)) return e;
        String cause = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
        return new UserInputException("the device ran out of memory at batch size " + batch + " (" + cause
                + "); use a smaller --batch" + (planCommand == null ? "" : ", or run `" + planCommand
                + "` to see what fits"), e);
    }
}
