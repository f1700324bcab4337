package dev.kiln.io.pickle;

/**
 * A pickle is malformed or asks for something that is not allowed. The {@link Unpickler} adds the file
 * name and byte offset when it turns this into a {@link dev.kiln.io.WeightFormatException}.
 */
public class PickleException extends Exception {
    private static final long serialVersionUID = 1L;

    public PickleException(String message) {
        super(message);
    }
}
