package dev.kiln.trainer.model;

import dev.kiln.io.TensorData;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.trainer.UserInputException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PretrainedWeightsTest {

    @Test
    void mapsTheOnnxZooSqueezeNetNamesToTorchvisionKeys() {
        assertEquals("features.0.weight", PretrainedWeights.squeezeNetNpyKey("squeezenet0_conv0_weight"));
        assertEquals("features.3.squeeze.bias", PretrainedWeights.squeezeNetNpyKey("squeezenet0_conv1_bias"));
        assertEquals("features.3.expand3x3.weight", PretrainedWeights.squeezeNetNpyKey("squeezenet0_conv3_weight"));
        assertEquals("features.6.squeeze.weight", PretrainedWeights.squeezeNetNpyKey("squeezenet0_conv7_weight"));
        assertEquals("features.12.expand3x3.bias", PretrainedWeights.squeezeNetNpyKey("squeezenet0_conv24_bias"));
        assertEquals("classifier.1.weight", PretrainedWeights.squeezeNetNpyKey("squeezenet0_conv25_weight"));
    }

    @Test
    void everyBackboneKeyIsCoveredByTheMap() {
        SqueezeNet11 net = new SqueezeNet11(true, 1000);
        Map<String, TensorData> mapped = new LinkedHashMap<>();
        for (int conv = 0; conv <= 25; conv++) {
            for (String kind : new String[]{"weight", "bias"}) {
                String key = PretrainedWeights.squeezeNetNpyKey("squeezenet0_conv" + conv + "_" + kind);
                mapped.put(key, TensorData.ofFloats(net.parameter(key).value().shape().toArray(),
                        net.parameter(key).value().toFloatArray()));
            }
        }
        assertEquals(net.stateDict().keySet(), mapped.keySet());
    }

    @Test
    void missingTensorsAndWrongShapesAreNamed() {
        SqueezeNet11 backbone = new SqueezeNet11(false, 0);
        Map<String, TensorData> empty = Map.of();
        UserInputException missing = assertThrows(UserInputException.class,
                () -> PretrainedWeights.assign(backbone, empty, Path.of("w.safetensors")));
        assertTrue(missing.getMessage().contains("w.safetensors") && missing.getMessage().contains("features.0.weight"),
                missing.getMessage());

        Map<String, TensorData> wrong = new LinkedHashMap<>();
        backbone.stateDict().forEach((k, t) -> wrong.put(k, TensorData.ofFloats(t.shape().toArray(), t.toFloatArray())));
        wrong.put("features.0.bias", TensorData.ofFloats(new int[]{3}, new float[3]));
        UserInputException shape = assertThrows(UserInputException.class,
                () -> PretrainedWeights.assign(backbone, wrong, Path.of("w.safetensors")));
        assertTrue(shape.getMessage().contains("features.0.bias") && shape.getMessage().contains("(64,)")
                && shape.getMessage().contains("(3,)"), shape.getMessage());
    }

    @Test
    void imagenetFailsFastWithAHint() {
        UserInputException e = assertThrows(UserInputException.class, () -> PretrainedWeights.checkAvailable("imagenet"));
        assertTrue(e.getMessage().contains("pass a local file"), e.getMessage());
    }
}
