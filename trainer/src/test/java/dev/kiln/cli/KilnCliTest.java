package dev.kiln.cli;

import dev.kiln.io.model.KilnModelFile;
import dev.kiln.io.model.ModelKind;
import dev.kiln.testing.SharedData;
import dev.kiln.trainer.model.Backbones;
import dev.kiln.trainer.model.FineTuneModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer's subcommands as a user runs them; model-io's are in {@link ConvertPredictCommandsTest}. */
class KilnCliTest {
    @TempDir
    Path tmp;

    @Test
    void badInputExitsNonZeroWithOneLine() {
        // No --data and no network (an unreachable loopback port stands in for the tutorial's address).
        System.setProperty("kiln.data.url", "http://127.0.0.1:1/hymenoptera_data.zip");
        System.setProperty("kiln.cache.dir", tmp.resolve("cache").toString());
        try {
            CliRun.of("finetune", "--model", "squeezenet1_1", "--weights", "none")
                    .assertFailedWith("finetune", "--data ../shared/data/hymenoptera");
        } finally {
            System.clearProperty("kiln.data.url");
            System.clearProperty("kiln.cache.dir");
        }
        CliRun.of("finetune", "--bogus").assertFailedWith("finetune", "Unknown option: '--bogus'");
        CliRun.of("finetune", "--data", tmp.toString(), "--model", "vgg16")
                .assertFailedWith("finetune", "unknown model 'vgg16'");
        CliRun.of("finetune", "--data", tmp.toString(), "--weights", "none", "--head", "tiny-dense")
                .assertFailedWith("finetune", "unknown head 'tiny-dense'");
        CliRun.of("finetune", "--data", tmp.toString(), "--weights", tmp.resolve("absent.pth").toString())
                .assertFailedWith("finetune", "absent.pth: no such file or folder");
        CliRun.of("finetune", "--data", tmp.resolve("missing").toString(), "--weights", "none")
                .assertFailedWith("finetune", "no such folder");
        CliRun.of("finetune", "--data", tmp.toString(), "--weights", "none", "--device", "tpu")
                .assertFailedWith("finetune", "--device tpu");
        CliRun.of("evaluate", "--weights", tmp.resolve("none.safetensors").toString(), "--data", tmp.toString())
                .assertFailedWith("evaluate", "none.safetensors");
        CliRun.of("finetune", "--data", tmp.toString(), "--weights", "none", "--augment", "--cache-features")
                .assertFailedWith("finetune", "--augment");
        CliRun.of("plan", "--model", "resnet18").assertFailedWith("plan", "unknown model 'resnet18'");
    }

    @Test
    void finetuneWithImagenetWeightsAndNoNetworkSaysWhatToPass() throws Exception {
        Path data = SharedData.require("data/hymenoptera");
        CliRun.withoutNetwork(tmp.resolve("cache"), () -> CliRun.of("finetune", "--data", data.toString(), "--model", "squeezenet1_1",
                "--limit-per-class", "1", "--out", tmp.resolve("run").toString())
                .assertFailedWith("finetune", "--weights path/to/squeezenet1_1-b8a52dc0.pth"));
    }

    @Test
    void helpListsTheSubcommands() {
        CliRun o = CliRun.of("--help");
        o.assertSucceeded();
        for (String c : new String[]{"finetune", "evaluate", "plan", "convert", "predict"}) {
            assertTrue(o.out().contains(c), o.out());
        }
    }

    @Test
    void evaluatePrintsLossAccuracyAndTheConfusionMatrix() throws Exception {
        Path data = SharedData.require("data/hymenoptera");
        FineTuneModel model = FineTuneModel.withNewHead(Backbones.load(Backbones.NONE, ModelKind.SQUEEZENET1_1),
                "gap-dense", List.of("ants", "bees"));
        Path file = tmp.resolve("model.safetensors");
        KilnModelFile.save(file, model.network(), model.card());
        CliRun o = CliRun.of("evaluate", "--weights", file.toString(), "--data", data.toString(), "--limit-per-class",
                "2", "--batch", "4", "--device", "cpu", "--no-progress");
        o.assertSucceeded();
        assertTrue(o.out().contains("4 images"), o.out());
        assertTrue(o.out().contains("accuracy"), o.out());
        assertTrue(o.out().contains("true\\pred"), o.out());

        CliRun predict = CliRun.of("predict", "--weights", file.toString(), "--top", "1",
                data.resolve("val/ants").toFile().listFiles()[0].toString());
        predict.assertSucceeded();
        assertTrue(predict.out().contains("ants") || predict.out().contains("bees"), predict.out());
    }

    @Test
    void evaluateRefusesAModelWithoutAHead() throws Exception {
        Path npy = SharedData.require("data/squeezenet1_1");
        Path kiln = tmp.resolve("squeezenet.safetensors");
        CliRun.of("convert", "--from", npy.toString(), "--to", kiln.toString()).assertSucceeded();
        CliRun.of("evaluate", "--weights", kiln.toString(), "--data", tmp.toString())
                .assertFailedWith("evaluate", "not a fine-tuned model");
    }

    @Test
    void planPrintsCountsAndMemoryOfBothPhases() {
        CliRun o = CliRun.of("plan", "--model", "squeezenet1_1", "--head", "gap-dense", "--batch", "8");
        o.assertSucceeded();
        assertTrue(o.out().contains("trainable parameters"), o.out());
        assertTrue(o.out().contains("527,362"), o.out()); // the gap-dense head for 2 classes
        assertTrue(o.out().contains("estimated peak"), o.out());
        assertFalse(o.out().contains("NaN"), o.out());
        assertEquals("", o.err());
    }
}
