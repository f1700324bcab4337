package dev.kiln.io.keras;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads the fixture written by src/test/resources/keras/make_fixture.py (see there for its values). */
class KerasH5Test {
    @TempDir
    Path tmp;

    static Path fixture() throws URISyntaxException {
        return Path.of(KerasH5Test.class.getResource("/keras/tiny_resnet_layout.h5").toURI());
    }

    /** make_fixture.py: element i of weight w of the l-th layer with weights is l + w/10 + i/1000. */
    private static float expected(int layer, int weight, int i) {
        return (float) (layer + weight / 10.0 + i / 1000.0);
    }

    @Test
    void readsWeightsInLayerOrderWithKerasNames() throws Exception {
        NamedTensors t = KerasH5.read(fixture());
        assertEquals(List.of("conv1_conv/kernel:0", "conv1_conv/bias:0",
                "conv1_bn/gamma:0", "conv1_bn/beta:0", "conv1_bn/moving_mean:0", "conv1_bn/moving_variance:0",
                "conv2_conv/kernel:0", "conv2_conv/bias:0", "predictions/kernel:0", "predictions/bias:0"),
                new ArrayList<>(t.names()));
        assertArrayEquals(new int[] {3, 3, 3, 4}, t.get("conv1_conv/kernel:0").shape());
        float[] kernel = t.get("conv1_conv/kernel:0").toFloats();
        assertEquals(expected(0, 0, 0), kernel[0]);
        assertEquals(expected(0, 0, 107), kernel[107]);
        assertEquals(expected(1, 3, 2), t.get("conv1_bn/moving_variance:0").toFloats()[2]);
        assertArrayEquals(new int[] {2, 5}, t.get("predictions/kernel:0").shape());
        assertEquals("2.2.4", t.metadata().get("keras_version"));
    }

    @Test
    void convertsLayoutsToEngineOrder() throws Exception {
        NamedTensors t = KerasH5.read(fixture());
        TensorData hwio = t.get("conv1_conv/kernel:0");
        TensorData oihw = KerasLayouts.conv2dKernelToOihw(hwio);
        assertArrayEquals(new int[] {4, 3, 3, 3}, oihw.shape());
        float[] src = hwio.toFloats();
        float[] dst = oihw.toFloats();
        for (int o = 0; o < 4; o++) {
            for (int i = 0; i < 3; i++) {
                for (int h = 0; h < 3; h++) {
                    for (int w = 0; w < 3; w++) {
                        assertEquals(src[((h * 3 + w) * 3 + i) * 4 + o], dst[((o * 3 + i) * 3 + h) * 3 + w]);
                    }
                }
            }
        }
        TensorData dense = KerasLayouts.denseKernelToOutIn(t.get("predictions/kernel:0"));
        assertArrayEquals(new int[] {5, 2}, dense.shape());
        assertEquals(t.get("predictions/kernel:0").toFloats()[1 * 5 + 3], dense.toFloats()[3 * 2 + 1]);
        assertThrows(IllegalArgumentException.class, () -> KerasLayouts.denseKernelToOutIn(hwio));
    }

    @Test
    void truncatedOrForeignFilesFailWithTheFileName() throws Exception {
        byte[] all = Files.readAllBytes(fixture());
        for (int cut : new int[] {0, 8, 100, all.length / 2, all.length - 100}) {
            Path p = tmp.resolve("cut" + cut + ".h5");
            Files.write(p, Arrays.copyOf(all, cut));
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> KerasH5.read(p), "cut " + cut);
            assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        }
        Path text = tmp.resolve("text.h5");
        Files.writeString(text, "not hdf5 at all, just text that is long enough to be read as a superblock");
        assertThrows(WeightFormatException.class, () -> KerasH5.read(text));
    }

    @Test
    void corruptedBytesNeverEscapeAsAnotherException() throws Exception {
        byte[] all = Files.readAllBytes(fixture());
        java.util.Random random = new java.util.Random(7);
        for (int trial = 0; trial < 40; trial++) {
            byte[] m = all.clone();
            for (int k = 0; k < 4; k++) {
                m[8 + random.nextInt(m.length - 8)] = (byte) random.nextInt(256);
            }
            Path p = tmp.resolve("fuzz" + trial + ".h5");
            Files.write(p, m);
            try {
                KerasH5.read(p);
            } catch (WeightFormatException e) {
                assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
            } catch (IOException e) {
                throw new AssertionError("unexpected " + e, e);
            }
        }
    }
}
