package dev.kiln.io.model;

import dev.kiln.autograd.Autograd;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.WeightFormatException;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Dense;
import dev.kiln.nn.GlobalAveragePooling2D;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KilnModelFileTest {
    @TempDir
    Path tmp;

    private static float[] forward(Layer model, float[] x, int... shape) {
        try (MemoryScope ignored = MemoryScope.open(); Autograd.NoGrad noGrad = Autograd.noGrad()) {
            return model.forward(Tensor.of(x, shape), Mode.EVAL).toFloatArray();
        }
    }

    private static float[] randomImage(int size) {
        Random r = new Random(3);
        float[] x = new float[3 * size * size];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private static void assertSameState(Layer expected, Layer actual) {
        assertEquals(expected.stateDict().keySet(), actual.stateDict().keySet());
        expected.stateDict().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), actual.stateDict().get(k).toFloatArray(), k));
    }

    @Test
    void pretrainedModelRoundTripsWithItsCard() throws Exception {
        ModelCard card = ModelKind.SQUEEZENET1_1.card(true, 1000);
        Layer model = card.buildModel();
        Path file = tmp.resolve("squeezenet.safetensors");
        KilnModelFile.save(file, model, card);

        LoadedModel loaded = KilnModelFile.load(file);
        assertEquals(card, loaded.card());
        assertTrue(loaded.model() instanceof SqueezeNet11);
        assertSameState(model, loaded.model());
        Map<String, String> meta = SafeTensors.read(file).metadata();
        assertEquals("squeezenet1_1", meta.get("architecture"));
        assertEquals("logits", meta.get("outputs"));
        assertTrue(meta.get("class_names").startsWith("[\"tench\",\"goldfish\""), meta.get("class_names"));
    }

    /** A fine-tuned model assembled by hand as the trainer does (see ModelCard), rebuilt from the card alone. */
    @Test
    void fineTunedModelIsRebuiltFromTheCardAlone() throws Exception {
        Sequential trained = new Sequential()
                .append("backbone", new SqueezeNet11(false, 0))
                .append("pool", new GlobalAveragePooling2D())
                .append("dense", new Dense(512, 8, Activation.RELU))
                .append("predictions", new Dense(8, 2, Activation.SOFTMAX));
        ModelCard card = ModelKind.SQUEEZENET1_1.card(true, 1000)
                .withHead(new HeadSpec(HeadSpec.GAP, 8, 2), List.of("ants", "bees"));
        Path file = tmp.resolve("ants-bees.safetensors");
        KilnModelFile.save(file, trained, card);

        LoadedModel loaded = KilnModelFile.load(file);
        assertEquals(card, loaded.card());
        assertSameState(trained, loaded.model());
        assertEquals("{\"type\":\"gap-dense\",\"units\":8,\"classes\":2}", SafeTensors.read(file).metadata().get("head"));
        float[] x = randomImage(64);
        float[] probs = forward(loaded.model(), x, 1, 3, 64, 64);
        assertArrayEquals(forward(trained, x, 1, 3, 64, 64), probs);
        assertEquals(1.0, probs[0] + probs[1], 1e-6);
        assertTrue(loaded.card().outputsProbabilities());
        assertEquals("bees", loaded.card().label(1));
    }

    /** A new head goes on the backbone of a pretrained file (its top left out) or of a fine-tuned one (its head). */
    @Test
    void theBackboneOfAnyKilnFileLoadsWithoutTopOrHead() throws Exception {
        ModelCard pretrained = ModelKind.SQUEEZENET1_1.card(true, 1000);
        Layer withTop = pretrained.buildModel();
        Path topFile = tmp.resolve("top.safetensors");
        KilnModelFile.save(topFile, withTop, pretrained);
        LoadedModel fromTop = WeightImport.load(topFile, null, false);
        assertEquals(pretrained.withoutTop(), fromTop.card());
        assertEquals(withTop.parameter("features.12.expand3x3.bias").value().toFloatArray()[3],
                fromTop.model().parameter("features.12.expand3x3.bias").value().toFloatArray()[3]);

        ModelCard fineTuned = pretrained.withHead(new HeadSpec(HeadSpec.GAP, 8, 2), List.of("ants", "bees"));
        Layer model = fineTuned.buildModel(fromTop.model());
        Path headFile = tmp.resolve("head.safetensors");
        KilnModelFile.save(headFile, model, fineTuned, Map.of("kiln.epoch", "3"));
        assertEquals("3", SafeTensors.read(headFile).metadata().get("kiln.epoch"));
        LoadedModel fromHead = WeightImport.load(headFile, ModelKind.SQUEEZENET1_1, false);
        assertEquals(fineTuned.withoutTop(), fromHead.card());
        assertSameState(fromTop.model(), fromHead.model());
    }

    @Test
    void flattenHeadSizesFollowTheCropSize() {
        ModelCard base = ModelKind.RESNET50.card(true, 1000);
        Sequential model = (Sequential) base.withHead(new HeadSpec(HeadSpec.FLATTEN, 4, 3), List.of()).buildModel();
        assertEquals(List.of("backbone", "flatten", "dense", "predictions"), model.layers().stream().map(Layer::name).toList());
        assertArrayEquals(new int[] {4, 2048 * 7 * 7}, model.parameter("dense.weight").value().shape().toArray());
        assertArrayEquals(new int[] {512, 13, 13}, Architecture.SQUEEZENET1_1.featureShape(224));
    }

    /** featureShape is arithmetic; the backbones themselves must agree with it. */
    @Test
    void featureShapesAgreeWithTheBackbones() {
        float[] x = randomImage(64);
        assertEquals(2048 * 2 * 2, forward(new ResNet50(ResNetVariant.KERAS_V1, false, 0), x, 1, 3, 64, 64).length);
        assertArrayEquals(new int[] {2048, 2, 2}, Architecture.RESNET50.featureShape(64));
        assertEquals(512 * 3 * 3, forward(new SqueezeNet11(false, 0), x, 1, 3, 64, 64).length);
        assertArrayEquals(new int[] {512, 3, 3}, Architecture.SQUEEZENET1_1.featureShape(64));
    }

    @Test
    void aModelThatDoesNotFitItsCardIsNotSaved() {
        ModelCard card = ModelKind.SQUEEZENET1_1.card(true, 1000).withHead(new HeadSpec(HeadSpec.GAP, 8, 2), List.of());
        Sequential wrongName = new Sequential()
                .append("backbone", new SqueezeNet11(false, 0))
                .append("pool", new GlobalAveragePooling2D())
                .append("hidden", new Dense(512, 8, Activation.RELU))
                .append("predictions", new Dense(8, 2, Activation.SOFTMAX));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KilnModelFile.save(tmp.resolve("x.safetensors"), wrongName, card));
        assertTrue(e.getMessage().contains("'dense.weight'"), e.getMessage());
    }

    @Test
    void cardsRoundTripThroughMetadata() {
        ModelCard keras = ModelCard.kerasResNet50(false, List.of());
        assertEquals(keras, ModelCard.fromMetadata(keras.toMetadata()));
        assertEquals("keras_v1", keras.toMetadata().get("variant"));
        assertTrue(keras.toMetadata().get("preprocessing").contains("\"channels\":\"BGR\""));
        Map<String, String> future = new HashMap<>(keras.toMetadata());
        future.put("format_version", "9");
        assertThrows(IllegalArgumentException.class, () -> ModelCard.fromMetadata(future));
    }

    @Test
    void aFileWithoutCardIsRefusedByName() throws Exception {
        Path plain = tmp.resolve("plain.safetensors");
        SafeTensors.write(plain, new NamedTensors().put("w", dev.kiln.io.TensorData.ofFloats(new int[] {1}, new float[] {1})), Map.of());
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> KilnModelFile.load(plain));
        assertTrue(e.getMessage().startsWith(plain + ": no Kiln model card"), e.getMessage());
    }
}
