package dev.kiln.io;

import dev.kiln.io.keras.KerasH5;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightFilesTest {
    @TempDir
    Path tmp;

    @Test
    void detectsEachFormatByContent() throws Exception {
        Path st = tmp.resolve("weights.bin"); // extension deliberately misleading
        SafeTensors.write(st, new NamedTensors().put("a", TensorData.ofFloats(new int[] {1}, new float[] {2})), null);
        assertEquals(WeightFiles.Format.SAFETENSORS, WeightFiles.detect(st));
        assertEquals(2f, WeightFiles.read(st).get("a").toFloats()[0]);

        Path h5 = Path.of(KerasH5.class.getResource("/keras/tiny_resnet_layout.h5").toURI());
        assertEquals(WeightFiles.Format.KERAS_H5, WeightFiles.detect(h5));
        assertEquals(10, WeightFiles.read(h5).size());

        Path npy = tmp.resolve("bias.npy");
        Files.write(npy, dev.kiln.io.npy.NpyTest.npyBytes());
        assertEquals(WeightFiles.Format.NPY, WeightFiles.detect(npy));
        assertTrue(WeightFiles.read(npy).contains("bias"));
        assertEquals(WeightFiles.Format.NPY_DIRECTORY, WeightFiles.detect(tmp));
    }

    @Test
    void detectsTorchFiles() throws IOException {
        Path dir = SharedData.require("oracle/cases/pth");
        assertEquals(WeightFiles.Format.TORCH_ZIP, WeightFiles.detect(dir.resolve("bottleneck_zip.pth")));
        assertEquals(WeightFiles.Format.TORCH_LEGACY, WeightFiles.detect(dir.resolve("bottleneck_legacy.pth")));
        assertEquals(18, WeightFiles.read(dir.resolve("bottleneck_legacy.pth")).size());
    }

    @Test
    void unknownFormatsGiveOneLine() throws IOException {
        Path p = tmp.resolve("notes.pth");
        Files.writeString(p, "hello world, not weights");
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> WeightFiles.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()) && e.getMessage().contains("unknown weight format")
                && e.getMessage().contains(".pth"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        Path empty = Files.createFile(tmp.resolve("empty"));
        assertTrue(assertThrows(WeightFormatException.class, () -> WeightFiles.read(empty)).getMessage()
                .contains("empty"));
        Path dir = Files.createDirectory(tmp.resolve("dir"));
        assertThrows(WeightFormatException.class, () -> WeightFiles.read(dir));
        assertThrows(WeightFormatException.class, () -> WeightFiles.read(tmp.resolve("missing")));
    }
}
