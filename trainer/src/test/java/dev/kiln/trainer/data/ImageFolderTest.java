package dev.kiln.trainer.data;

import dev.kiln.trainer.UserInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFolderTest {
    @TempDir
    Path tmp;

    private void touch(Path dir, String cls, int n) throws Exception {
        Files.createDirectories(dir.resolve(cls));
        for (int i = 0; i < n; i++) Files.writeString(dir.resolve(cls).resolve(String.format("img%02d.jpg", i)), "x");
    }

    @Test
    void trainAndValFoldersGiveSortedClassesAndAllFiles() throws Exception {
        touch(tmp.resolve("train"), "zebra", 3);
        touch(tmp.resolve("train"), "ant", 2);
        touch(tmp.resolve("val"), "zebra", 1);
        touch(tmp.resolve("val"), "ant", 1);
        Files.writeString(tmp.resolve("train/ant/.DS_Store"), "hidden");
        DatasetSplit s = ImageFolder.scan(tmp, 0.2, 1, 0);
        assertEquals(List.of("ant", "zebra"), s.classes());
        assertEquals(5, s.train().size());
        assertEquals(2, s.val().size());
        assertEquals(0, s.train().get(0).label());
        assertEquals(List.of(0, 1, 2, 3, 4), s.train().stream().map(Sample::index).toList());
    }

    @Test
    void oneFolderIsSplitPerClassWithASeededShuffle() throws Exception {
        touch(tmp, "a", 10);
        touch(tmp, "b", 20);
        DatasetSplit s = ImageFolder.scan(tmp, 0.2, 5, 0);
        assertEquals(2 + 4, s.val().size());
        assertEquals(8 + 16, s.train().size());
        assertEquals(s.val(), ImageFolder.scan(tmp, 0.2, 5, 0).val());
        assertNotEquals(s.val(), ImageFolder.scan(tmp, 0.2, 6, 0).val());
        assertEquals(2, ImageFolder.scan(tmp, 0.2, 5, 1).val().size()); // --limit-per-class 1
    }

    @Test
    void badFoldersFailWithOneLine() throws Exception {
        assertTrue(assertThrows(UserInputException.class, () -> ImageFolder.scan(tmp.resolve("nope"), 0.2, 1, 0))
                .getMessage().contains("no such folder"));
        touch(tmp, "only", 3);
        assertTrue(assertThrows(UserInputException.class, () -> ImageFolder.scan(tmp, 0.2, 1, 0))
                .getMessage().contains("at least two"));
        touch(tmp, "other", 3);
        assertTrue(assertThrows(UserInputException.class, () -> ImageFolder.scan(tmp, 1.5, 1, 0))
                .getMessage().contains("--val-split"));
    }
}
