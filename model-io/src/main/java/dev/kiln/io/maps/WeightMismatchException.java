package dev.kiln.io.maps;

import dev.kiln.io.WeightFormatException;

import java.nio.file.Path;

/**
 * A weight file does not fit the model it is loaded into: a parameter without a value, a tensor without a
 * parameter, or a shape that differs. The message names the file, the key and, for shapes, both shapes.
 */
public class WeightMismatchException extends WeightFormatException {
    private static final long serialVersionUID = 1L;

    public WeightMismatchException(Path file, String key, String message) {
        super(file, key, message);
    }
}
