package dev.kiln.trainer.data;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not an image Java can decode: the pipeline skips it with a warning naming it. */
public final class UnreadableImageException extends IOException {
    private static final long serialVersionUID = 1L;

    public UnreadableImageException(Path file, String reason, Throwable cause) {
        super(file + ": not a readable image (" + reason + ")", cause);
    }
}
