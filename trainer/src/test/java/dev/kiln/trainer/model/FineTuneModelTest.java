package dev.kiln.trainer.model;

import dev.kiln.io.model.ModelKind;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.UserInputException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FineTuneModelTest {

    static FineTuneModel squeezeNet(String head, String... classes) throws IOException {
        return FineTuneModel.withNewHead(Backbones.load(Backbones.NONE, ModelKind.SQUEEZENET1_1), head, List.of(classes));
    }

    private static long headWeights(FineTuneModel m) {
        return Layer.count(m.network().weights()) - Layer.count(m.backbone().weights());
    }

    @Test
    void squeezeNetHeadsHaveTheRecipesShapesAndCounts() throws IOException {
        FineTuneModel flat = squeezeNet("flatten-dense", "a", "b", "c");
        // Flatten 512·13·13 → Dense(1024, relu) → Dense(3)
        assertEquals(512L * 13 * 13 * 1024 + 1024 + 1024 * 3 + 3, headWeights(flat));
        FineTuneModel gap = squeezeNet("gap-dense", "a", "b");
        assertEquals(512L * 1024 + 1024 + 1024 * 2 + 2, headWeights(gap));
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor x = Tensor.of(new float[2 * 3 * 224 * 224], 2, 3, 224, 224);
            Tensor probabilities = gap.network().forward(x, Mode.EVAL);
            assertArrayEquals(new int[]{2, 2}, probabilities.shape().toArray());
            float[] p = probabilities.toFloatArray();
            float[] z = gap.logits(x, Mode.EVAL).toFloatArray();
            // forward = softmax(logits)
            double e0 = Math.exp(z[0] - Math.max(z[0], z[1]));
            double e1 = Math.exp(z[1] - Math.max(z[0], z[1]));
            assertEquals(e0 / (e0 + e1), p[0], 1e-6);
            assertEquals(1.0, p[2] + p[3], 1e-6);
        }
    }

    @Test
    void phase1FreezesTheBackboneAndPhase2UnfreezesTheLastFireModule() throws IOException {
        FineTuneModel m = squeezeNet("gap-dense", "a", "b");
        m.freezeBackbone();
        assertEquals(headWeights(m), Layer.count(m.network().trainableWeights()));
        long unfrozen = m.unfreezeFrom(m.card().architecture().lastBlock());
        assertEquals(Layer.count(m.backbone().layer("features.12").weights()), unfrozen);
        assertTrue(m.backbone().layer("features.12.squeeze").isTrainable());
        assertFalse(m.backbone().layer("features.11").isTrainable());
    }

    @Test
    void unfreezingFromAnEarlierBlockUnfreezesEverythingAfterIt() throws IOException {
        FineTuneModel m = squeezeNet("gap-dense", "a", "b");
        m.freezeBackbone();
        long unfrozen = m.unfreezeFrom("features.10");
        long expected = 0;
        for (String l : new String[]{"features.10", "features.11", "features.12"}) {
            expected += Layer.count(m.backbone().layer(l).weights());
        }
        assertEquals(expected, unfrozen);
    }

    @Test
    void theNetworkIsTheCardsFineTunedStructure() throws IOException {
        FineTuneModel m = squeezeNet("flatten-dense", "a", "b");
        assertEquals(List.of("backbone", "flatten", "dense", "predictions"),
                m.network().layers().stream().map(Layer::name).toList());
        assertEquals(m.card().buildModel().stateDict().keySet(), m.network().stateDict().keySet());
        assertEquals(List.of("a", "b"), m.card().classNames());
        assertEquals("flatten-dense", m.card().head().type());
    }

    @Test
    void badHeadsUnfreezePointsAndClassCountsAreNamed() throws IOException {
        FineTuneModel m = squeezeNet("gap-dense", "a", "b");
        UserInputException e = assertThrows(UserInputException.class, () -> m.unfreezeFrom("layer4.2"));
        assertTrue(e.getMessage().contains("--unfreeze-from layer4.2") && e.getMessage().contains("features"),
                e.getMessage());
        assertThrows(UserInputException.class, () -> squeezeNet("vgg-dense", "a", "b"));
        assertThrows(UserInputException.class, () -> squeezeNet("gap-dense", "a"));
    }
}
