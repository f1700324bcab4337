package dev.kiln.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces files so that a crash at any moment leaves either the old file or the new one under the real name,
 * never a partial one: the content goes to a temporary file in the same folder (same file system), is flushed to
 * the disk, then {@link Files#move} with {@code ATOMIC_MOVE} renames it over the target. A temporary file left by a
 * killed process is replaced by the next write of the same target. Weight files, checkpoints, histories and plots
 * are all written this way.
 */
public final class AtomicFiles {
    /** Temporary files start with "." and end with this; readers never look at them. */
    public static final String TEMP_SUFFIX = ".partial";

    private AtomicFiles() {
    }

    /** Writes the content of a file to a path. */
    @FunctionalInterface
    public interface Writer {
        void writeTo(Path temp) throws IOException;
    }

    /** Runs between the complete temporary file and the rename; tests inject failures here. */
    @FunctionalInterface
    public interface BeforeCommit {
        BeforeCommit NOTHING = temp -> { };

        void run(Path temp) throws IOException;
    }

    public static void write(Path target, Writer writer) throws IOException {
        write(target, writer, BeforeCommit.NOTHING);
    }

    public static void write(Path target, Writer writer, BeforeCommit beforeCommit) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = dir.resolve("." + target.getFileName() + TEMP_SUFFIX);
        boolean committed = false;
        try {
            Files.deleteIfExists(temp); // left over by a crash
            writer.writeTo(temp);
            try (FileChannel written = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                written.force(true); // on the disk before the rename makes it the real file
            }
            beforeCommit.run(temp);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(target + ": this file system cannot replace files atomically", e);
            }
            committed = true;
        } finally {
            if (!committed) Files.deleteIfExists(temp);
        }
    }

    public static void writeBytes(Path target, byte[] bytes) throws IOException {
        write(target, temp -> Files.write(temp, bytes));
    }

    public static void writeString(Path target, String text) throws IOException {
        writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
    }
}
