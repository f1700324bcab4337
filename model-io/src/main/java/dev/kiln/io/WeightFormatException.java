package dev.kiln.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A weight file is malformed, truncated, unsupported or unsafe. The message always starts with the file
 * name and, where one is known, the tensor key, so that a user can tell at once which input is at fault.
 */
public class WeightFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String key;

    public WeightFormatException(Path file, String message) {
        this(file, null, message, null);
    }

    public WeightFormatException(Path file, String key, String message) {
        this(file, key, message, null);
    }

    public WeightFormatException(Path file, String key, String message, Throwable cause) {
        super(format(file, key, message), cause);
        this.file = file;
        this.key = key;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }

    /** The offending tensor key, or null when the problem is not tied to one tensor. */
    public String key() {
        return key;
    }

    private static String format(Path file, String key, String message) {
        String where = String.valueOf(file);
        return key == null ? where + ": " + message : where + ": tensor '" + key + "': " + message;
    }
}
