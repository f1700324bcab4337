package dev.kiln.trainer.model;

import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.UserInputException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransferModelTest {

    @Test
    void squeezeNetHeadsHaveTheRecipesShapesAndCounts() {
        TransferModel flat = new TransferModel(Architecture.SQUEEZENET1_1, HeadType.FLATTEN_DENSE, List.of("a", "b", "c"));
        // Flatten 512·13·13 → Dense(1024, relu) → Dense(3)
        assertEquals(512L * 13 * 13 * 1024 + 1024 + 1024 * 3 + 3, Layer.count(flat.headWeights()));
        TransferModel gap = new TransferModel(Architecture.SQUEEZENET1_1, HeadType.GAP_DENSE, List.of("a", "b"));
        assertEquals(512L * 1024 + 1024 + 1024 * 2 + 2, Layer.count(gap.headWeights()));
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor x = Tensor.of(new float[2 * 3 * 224 * 224], 2, 3, 224, 224);
            Tensor probabilities = gap.forward(x, Mode.EVAL);
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
    void phase1FreezesTheBackboneAndPhase2UnfreezesTheLastFireModule() {
        TransferModel m = new TransferModel(Architecture.SQUEEZENET1_1, HeadType.GAP_DENSE, List.of("a", "b"));
        m.freezeBackbone();
        assertEquals(Layer.count(m.headWeights()), Layer.count(m.trainableWeights()));
        long unfrozen = m.unfreezeFrom(Architecture.SQUEEZENET1_1.defaultUnfreezeFrom());
        assertEquals(Layer.count(m.backbone().layer("features.12").weights()), unfrozen);
        assertTrue(m.backbone().layer("features.12.squeeze").isTrainable());
        assertTrue(!m.backbone().layer("features.11").isTrainable());
    }

    @Test
    void unfreezingFromAnEarlierBlockUnfreezesEverythingAfterIt() {
        TransferModel m = new TransferModel(Architecture.SQUEEZENET1_1, HeadType.GAP_DENSE, List.of("a", "b"));
        m.freezeBackbone();
        long unfrozen = m.unfreezeFrom("features.10");
        long expected = 0;
        for (String l : new String[]{"features.10", "features.11", "features.12"}) {
            expected += Layer.count(m.backbone().layer(l).weights());
        }
        assertEquals(expected, unfrozen);
    }

    @Test
    void stateDictKeysFollowModelIosCardConvention() {
        TransferModel m = new TransferModel(Architecture.SQUEEZENET1_1, HeadType.FLATTEN_DENSE, List.of("a", "b"));
        assertTrue(m.stateDict().containsKey("backbone.features.0.weight"));
        assertTrue(m.stateDict().containsKey("dense.weight"));
        assertTrue(m.stateDict().containsKey("predictions.bias"));
        assertEquals(List.of("backbone", "flatten", "dense", "predictions"),
                m.layers().stream().map(Layer::name).toList());
    }

    @Test
    void anUnknownUnfreezePointNamesTheChildren() {
        TransferModel m = new TransferModel(Architecture.SQUEEZENET1_1, HeadType.GAP_DENSE, List.of("a", "b"));
        UserInputException e = assertThrows(UserInputException.class, () -> m.unfreezeFrom("layer4.2"));
        assertTrue(e.getMessage().contains("--unfreeze-from layer4.2") && e.getMessage().contains("features"),
                e.getMessage());
    }
}
