package dev.kiln.trainer;

/**
 * Bad input from the user (a missing folder, an unknown option value, weights that do not fit): the CLI prints
 * the message as one line and exits non-zero, without a stack trace.
 */
public class UserInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UserInputException(String message) {
        super(message);
    }

    public UserInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
