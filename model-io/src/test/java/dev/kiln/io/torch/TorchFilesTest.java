package dev.kiln.io.torch;

import dev.kiln.io.ElementType;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFormatException;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TorchFilesTest {
    @TempDir
    Path tmp;

    private static void assertSameTensors(NamedTensors expected, NamedTensors actual) {
        assertEquals(new ArrayList<>(expected.names()), new ArrayList<>(actual.names()));
        for (String name : expected.names()) {
            TensorData e = expected.get(name);
            TensorData a = actual.get(name);
            assertEquals(e.type(), a.type(), name);
            assertArrayEquals(e.shape(), a.shape(), name);
            assertArrayEquals(e.toBytes(), a.toBytes(), name);
        }
    }

    @Test
    void zipFormatMatchesOracle() throws IOException {
        Path dir = SharedData.require("oracle/cases/pth");
        NamedTensors expected = SafeTensors.read(dir.resolve("bottleneck_expected.safetensors"));
        NamedTensors actual = TorchFiles.read(dir.resolve("bottleneck_zip.pth"));
        assertSameTensors(expected, actual);
        assertEquals(ElementType.I64, actual.get("bn1.num_batches_tracked").type());
        assertEquals(0, actual.get("bn1.num_batches_tracked").rank());
    }

    @Test
    void legacyFormatMatchesOracle() throws IOException {
        Path dir = SharedData.require("oracle/cases/pth");
        NamedTensors expected = SafeTensors.read(dir.resolve("bottleneck_expected.safetensors"));
        assertSameTensors(expected, TorchFiles.read(dir.resolve("bottleneck_legacy.pth")));
    }

    @Test
    void zipTopFolderNameMayVary() throws IOException {
        Path original = SharedData.require("oracle/cases/pth/bottleneck_zip.pth");
        Path renamed = tmp.resolve("renamed.pth");
        try (ZipFile in = new ZipFile(original.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(renamed))) {
            for (ZipEntry e : java.util.Collections.list(in.entries())) {
                String name = "archive" + e.getName().substring(e.getName().indexOf('/'));
                out.putNextEntry(new ZipEntry(name));
                out.write(in.getInputStream(e).readAllBytes());
                out.closeEntry();
            }
        }
        assertSameTensors(TorchFiles.read(original), TorchFiles.read(renamed));
    }

    @Test
    void truncatedFilesFailWithTheFileName() throws IOException {
        Path dir = SharedData.require("oracle/cases/pth");
        for (String name : new String[] {"bottleneck_zip.pth", "bottleneck_legacy.pth"}) {
            byte[] all = Files.readAllBytes(dir.resolve(name));
            for (int cut : new int[] {1, 16, 200, all.length / 2, all.length - 1}) {
                Path p = tmp.resolve("cut" + cut + "_" + name);
                Files.write(p, Arrays.copyOf(all, cut));
                WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchFiles.read(p),
                        name + " cut at " + cut);
                assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
            }
        }
    }
}
