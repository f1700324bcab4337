package dev.kiln.io.maps;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Sequential;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A conv (2→3 channels, 1×1, no bias) and an "fc" top (3·2·2 → 4), loaded from hand-made tensors. */
class WeightLoaderTest {
    private static final Path FILE = Path.of("weights.pth");
    private static final TorchvisionNames NAMES = new TorchvisionNames("test state_dict", "fc.");

    private static Sequential model() {
        return new Sequential()
                .append("conv", new Conv2D(2, 3, 1, 1, 0, false))
                .append("flatten", new Flatten())
                .append("fc", new Dense(12, 4));
    }

    private static TensorData filled(float value, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        java.util.Arrays.fill(v, value);
        return TensorData.ofFloats(shape, v);
    }

    private static NamedTensors complete() {
        return new NamedTensors()
                .put("conv.weight", filled(1, 3, 2, 1, 1))
                .put("fc.weight", filled(2, 4, 12))
                .put("fc.bias", filled(3, 4))
                .put("conv.num_batches_tracked", TensorData.ofLongs(new int[0], new long[] {7}));
    }

    @Test
    void loadsEveryParameterAndIgnoresBookkeeping() throws Exception {
        Sequential m = model();
        LoadReport r = WeightLoader.load(m, complete(), NAMES, LoadOptions.strict(), FILE);
        assertEquals(List.of("conv.weight", "fc.weight", "fc.bias"), r.loaded());
        assertEquals(List.of("conv.num_batches_tracked"), r.skipped());
        assertEquals(3f, m.parameter("fc.bias").value().toFloatArray()[2]);
    }

    @Test
    void wrongShapeNamesTheKeyAndBothShapes() {
        NamedTensors t = complete();
        NamedTensors bad = new NamedTensors();
        t.asMap().forEach((k, v) -> bad.put(k, k.equals("fc.weight") ? filled(2, 5, 12) : v));
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> WeightLoader.load(model(), bad, NAMES, LoadOptions.strict(), FILE));
        assertEquals("weights.pth: tensor 'fc.weight': shape [5, 12] does not match model parameter 'fc.weight' of shape [4, 12]",
                e.getMessage());
        // Partial loading tolerates absent and extra tensors, never a wrong shape.
        assertThrows(WeightMismatchException.class,
                () -> WeightLoader.load(model(), bad, NAMES, LoadOptions.strict().withPartial(true), FILE));
    }

    @Test
    void kerasLayoutShapesAreReportedAsStoredToo() {
        Sequential m = new Sequential().append("conv1", new Conv2D(3, 4, 3, 1, 1, false));
        NamedTensors t = new NamedTensors().put("conv1_conv/kernel:0", filled(0, 3, 3, 3, 5));
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> WeightLoader.load(m, t, new KerasResNet50Names(), LoadOptions.strict(), FILE));
        assertTrue(e.getMessage().contains("'conv1_conv/kernel:0': shape [5, 3, 3, 3] ([3, 3, 3, 5] as stored)"
                + " does not match model parameter 'conv1.weight' of shape [4, 3, 3, 3]"), e.getMessage());
    }

    @Test
    void missingAndUnexpectedTensorsFailUnlessPartial() throws Exception {
        NamedTensors missing = new NamedTensors().put("conv.weight", filled(1, 3, 2, 1, 1)).put("fc.bias", filled(3, 4));
        WeightMismatchException e = assertThrows(WeightMismatchException.class,
                () -> WeightLoader.load(model(), missing, NAMES, LoadOptions.strict(), FILE));
        assertTrue(e.getMessage().contains("no value for model parameter 'fc.weight'"), e.getMessage());

        NamedTensors extra = complete().put("head.weight", filled(0, 2));
        e = assertThrows(WeightMismatchException.class,
                () -> WeightLoader.load(model(), extra, NAMES, LoadOptions.strict(), FILE));
        assertEquals("head.weight", e.key());
        assertTrue(e.getMessage().contains("has no place in the model"), e.getMessage());

        LoadReport r = WeightLoader.load(model(), missing.put("head.weight", filled(0, 2)), NAMES,
                LoadOptions.strict().withPartial(true), FILE);
        assertEquals(List.of("fc.weight"), r.missing());
        assertEquals(List.of("head.weight"), r.unexpected());
    }

    @Test
    void withoutTheTopTheFilesTopIsSkipped() throws Exception {
        Sequential backbone = new Sequential().append("conv", new Conv2D(2, 3, 1, 1, 0, false));
        LoadReport r = WeightLoader.load(backbone, complete(), NAMES, LoadOptions.strict().withIncludeTop(false), FILE);
        assertEquals(List.of("conv.weight"), r.loaded());
        assertTrue(r.skipped().containsAll(List.of("fc.weight", "fc.bias")));
        // With the top requested, a backbone has no place for it.
        assertThrows(WeightMismatchException.class, () -> WeightLoader.load(
                new Sequential().append("conv", new Conv2D(2, 3, 1, 1, 0, false)), complete(), NAMES, LoadOptions.strict(), FILE));
    }

    @Test
    void aFailedLoadLeavesTheModelUntouched() {
        Sequential m = model();
        float[] before = m.parameter("conv.weight").value().toFloatArray();
        NamedTensors bad = new NamedTensors().put("conv.weight", filled(9, 3, 2, 1, 1)).put("fc.weight", filled(2, 1, 1));
        assertThrows(WeightMismatchException.class, () -> WeightLoader.load(m, bad, NAMES, LoadOptions.strict(), FILE));
        assertArrayEquals(before, m.parameter("conv.weight").value().toFloatArray());
    }

    @Test
    void integerTensorsAreRefused() {
        NamedTensors t = new NamedTensors().put("conv.weight", TensorData.ofInts(new int[] {3, 2, 1, 1}, new int[6]));
        WeightMismatchException e = assertThrows(WeightMismatchException.class, () -> WeightLoader.load(
                model(), t, NAMES, LoadOptions.strict().withPartial(true), FILE));
        assertTrue(e.getMessage().contains("I32"), e.getMessage());
    }
}
