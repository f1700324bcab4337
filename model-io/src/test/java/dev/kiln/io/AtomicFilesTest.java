package dev.kiln.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AtomicFilesTest {
    @TempDir
    Path tmp;

    @Test
    void aFailureBeforeTheRenameKeepsTheOldFileAndRemovesTheTemporaryOne() throws Exception {
        Path target = tmp.resolve("state.bin");
        AtomicFiles.writeString(target, "old");
        assertThrows(IOException.class, () -> AtomicFiles.write(target,
                temp -> Files.writeString(temp, "new"),
                temp -> { throw new IOException("crash"); }));
        assertEquals("old", Files.readString(target));
        assertThrows(IOException.class, () -> AtomicFiles.write(target, temp -> {
            Files.writeString(temp, "half");
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(target));
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count());
        }
        AtomicFiles.writeString(target, "new");
        assertEquals("new", Files.readString(target));
    }
}
