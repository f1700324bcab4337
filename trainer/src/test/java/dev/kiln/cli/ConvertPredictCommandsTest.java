package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.model.KilnModelFile;
import dev.kiln.io.model.ModelCard;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** model-io's {@code convert} and {@code predict} as a user runs them, under the {@code kiln} root command. */
class ConvertPredictCommandsTest {
    @TempDir
    Path tmp;

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    /** A torchvision-style SqueezeNet state_dict; {@code edit} may drop or replace tensors. */
    private Path squeezeNetStateDict(String name, Map<String, TensorData> replace) throws Exception {
        NamedTensors t = new NamedTensors();
        for (Map.Entry<String, Tensor> e : new SqueezeNet11(true, 1000).stateDict().entrySet()) {
            TensorData data = TensorData.ofFloats(e.getValue().shape().toArray(), e.getValue().toFloatArray());
            if (replace.containsKey(e.getKey())) data = replace.get(e.getKey());
            if (data != null) t.put(e.getKey(), data);
        }
        Path file = tmp.resolve(name);
        SafeTensors.write(file, t, Map.of());
        return file;
    }

    @Test
    void convertThenPredictWithTheKilnFileAlone() throws Exception {
        Path npy = SharedData.require("data/squeezenet1_1");
        Path dog = SharedData.require("data/imagenet-samples/pytorch-hub/dog.jpg");
        Path kiln = tmp.resolve("squeezenet.safetensors");

        CliRun convert = run("convert", "--from", npy.toString(), "--to", kiln.toString());
        convert.assertSucceeded();
        assertTrue(convert.out().contains("squeezenet1_1, 1000 classes"), convert.out());
        assertEquals("squeezenet1_1", KilnModelFile.readCard(kiln).architecture().cardName());

        CliRun predict = run("predict", "--weights", kiln.toString(), "--top", "2", "--json", dog.toString());
        predict.assertSucceeded();
        JsonNode json = new ObjectMapper().readTree(predict.out());
        assertEquals(dog.toString(), json.get("file").asText());
        assertEquals(2, json.get("top").size());
        assertEquals(258, json.get("top").get(0).get("index").asInt());
        assertEquals("Samoyed", json.get("top").get(0).get("label").asText());
        assertTrue(json.get("top").get(0).get("prob").asDouble() > 0.5);
    }

    @Test
    void predictReadsTheNpyFolderDirectlyAndReportsBadImagesOneByOne() throws Exception {
        Path npy = SharedData.require("data/squeezenet1_1");
        Path parrot = SharedData.require("data/imagenet-samples/google-coral-test_data/parrot.jpg");
        Path notAnImage = Files.writeString(tmp.resolve("notes.jpg"), "just text");
        CliRun r = run("predict", "--weights", npy.toString(), "--top", "1", notAnImage.toString(), parrot.toString());
        r.assertFailedWith("predict", notAnImage + ": not an image");
        assertTrue(r.out().contains("88  macaw"), r.out());
    }

    @Test
    void convertRefusesUnknownFormats() throws Exception {
        Path junk = Files.writeString(tmp.resolve("weights.bin"), "these are not weights, only some words");
        run("convert", "--from", junk.toString(), "--to", tmp.resolve("out.safetensors").toString())
                .assertFailedWith("convert", junk + ": unknown weight format");
        assertFalse(Files.exists(tmp.resolve("out.safetensors")));
        run("convert", "--from", tmp.resolve("absent.pth").toString(), "--to", tmp.resolve("o.safetensors").toString())
                .assertFailedWith("convert", "no such file");
    }

    @Test
    void convertNamesAMissingKey() throws Exception {
        java.util.HashMap<String, TensorData> drop = new java.util.HashMap<>();
        drop.put("features.12.expand3x3.bias", null);
        Path file = squeezeNetStateDict("missing.safetensors", drop);
        run("convert", "--from", file.toString(), "--to", tmp.resolve("o.safetensors").toString())
                .assertFailedWith("convert", file + ": no value for model parameter 'features.12.expand3x3.bias'");
    }

    @Test
    void convertNamesAWrongShapeWithBothShapes() throws Exception {
        Path file = squeezeNetStateDict("wrong.safetensors",
                Map.of("features.0.weight", TensorData.ofFloats(new int[] {64, 3, 5, 5}, new float[64 * 3 * 25])));
        run("convert", "--from", file.toString(), "--to", tmp.resolve("o.safetensors").toString(), "--model", "squeezenet1_1")
                .assertFailedWith("convert", file + ": tensor 'features.0.weight': shape [64, 3, 5, 5] does not match"
                        + " model parameter 'features.0.weight' of shape [64, 3, 3, 3]");
        run("predict", "--weights", file.toString(), tmp.resolve("any.jpg").toString())
                .assertFailedWith("predict", "shape [64, 3, 5, 5]");
    }

    @Test
    void convertWithoutTopGivesABackboneThatPredictRefuses() throws Exception {
        Path file = squeezeNetStateDict("sd.safetensors", Map.of());
        Path backbone = tmp.resolve("backbone.safetensors");
        CliRun r = run("convert", "--from", file.toString(), "--to", backbone.toString(), "--no-include-top");
        r.assertSucceeded();
        ModelCard card = KilnModelFile.readCard(backbone);
        assertFalse(card.includeTop());
        assertFalse(SafeTensors.read(backbone).contains("classifier.1.weight"));
        run("predict", "--weights", backbone.toString(), "x.jpg").assertFailedWith("predict", "has no classifier");
        run("convert", "--from", file.toString(), "--to", backbone.toString(), "--model", "resnet50")
                .assertFailedWith("convert", "no value for model parameter 'conv1.weight'");
        run("convert", "--from", file.toString(), "--to", backbone.toString(), "--model", "vgg16")
                .assertFailedWith("convert", "unknown model 'vgg16'");
    }

    @Test
    void imagenetWithoutNetworkFailsFastAndSaysWhatToPass() throws Exception {
        CliRun.withoutNetwork(tmp.resolve("cache"), () -> run("predict", "--weights", "imagenet", "x.jpg")
                .assertFailedWith("predict", "--weights path/to/resnet50-0676ba61.pth"));
    }

    @Test
    void badOptionValuesAreUsageErrors() {
        run("predict", "--weights", "imagenet", "--top", "0", "x.jpg").assertFailedWith("predict", "--top must be at least 1");
        run("predict", "--weights", "imagenet", "--model", "vgg16", "x.jpg").assertFailedWith("predict", "unknown model 'vgg16'");
    }
}
