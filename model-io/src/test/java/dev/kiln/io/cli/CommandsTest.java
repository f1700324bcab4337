package dev.kiln.io.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.SharedData;
import dev.kiln.io.TensorData;
import dev.kiln.io.model.KilnModelFile;
import dev.kiln.io.model.ModelCard;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands as a user runs them: exit codes, output, and one-line errors without stack traces. */
class CommandsTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
        /** Failures are one line, name the command, and never show a stack trace. */
        void assertFailedWith(String command, String fragment) {
            assertEquals(1, code, "exit code; stderr: " + err);
            assertEquals(1, err.lines().count(), "one line: " + err);
            assertTrue(err.startsWith("kiln " + command + ": "), err);
            assertTrue(err.contains(fragment), "expected '" + fragment + "' in: " + err);
            assertFalse(err.contains("\tat ") || err.contains("Exception:"), err);
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = new CommandLine(new KilnIoMain()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(code, out.toString(), err.toString());
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

        Run convert = run("convert", "--from", npy.toString(), "--to", kiln.toString());
        assertEquals(0, convert.code(), convert.err());
        assertTrue(convert.out().contains("squeezenet1_1, 1000 classes"), convert.out());
        assertEquals("squeezenet1_1", KilnModelFile.readCard(kiln).architecture().cardName());

        Run predict = run("predict", "--weights", kiln.toString(), "--top", "2", "--json", dog.toString());
        assertEquals(0, predict.code(), predict.err());
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
        Run r = run("predict", "--weights", npy.toString(), "--top", "1", notAnImage.toString(), parrot.toString());
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
        Run r = run("convert", "--from", file.toString(), "--to", backbone.toString(), "--no-include-top");
        assertEquals(0, r.code(), r.err());
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
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        System.setProperty("kiln.weights.base.url", "http://127.0.0.1:" + closedPort + "/models/");
        System.setProperty("kiln.cache.dir", tmp.resolve("cache").toString());
        try {
            run("predict", "--weights", "imagenet", "x.jpg")
                    .assertFailedWith("predict", "--weights path/to/resnet50-0676ba61.pth");
        } finally {
            System.clearProperty("kiln.weights.base.url");
            System.clearProperty("kiln.cache.dir");
        }
    }
}
