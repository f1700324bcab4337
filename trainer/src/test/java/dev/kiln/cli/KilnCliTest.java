package dev.kiln.cli;

import dev.kiln.trainer.ModelFile;
import dev.kiln.trainer.SharedData;
import dev.kiln.trainer.data.ImagePreprocessing;
import dev.kiln.trainer.model.Architecture;
import dev.kiln.trainer.model.HeadType;
import dev.kiln.trainer.model.TransferModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KilnCliTest {
    @TempDir
    Path tmp;

    private record Outcome(int code, String out, String err) {
    }

    private static Outcome run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = KilnCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Outcome(code, out.toString(), err.toString());
    }

    private static void assertOneLineError(Outcome o, String expected) {
        assertEquals(KilnCli.EXIT_BAD_INPUT, o.code(), o.err());
        assertEquals(1, o.err().strip().lines().count(), "one line, no stack trace: " + o.err());
        assertTrue(o.err().contains(expected), o.err());
    }

    @Test
    void badInputExitsNonZeroWithOneLine() {
        assertOneLineError(run("finetune", "--model", "squeezenet1_1", "--weights", "none"),
                "--data ../shared/data/hymenoptera");
        assertOneLineError(run("finetune", "--bogus"), "Unknown option: '--bogus'");
        assertOneLineError(run("finetune", "--data", tmp.toString(), "--model", "vgg16"), "unknown model 'vgg16'");
        assertOneLineError(run("finetune", "--data", tmp.toString()), "pass a local file");
        assertOneLineError(run("finetune", "--data", tmp.resolve("missing").toString(), "--weights", "none"),
                "no such folder");
        assertOneLineError(run("finetune", "--data", tmp.toString(), "--weights", "none", "--device", "tpu"),
                "--device tpu");
        assertOneLineError(run("evaluate", "--weights", tmp.resolve("none.safetensors").toString(), "--data",
                tmp.toString()), "none.safetensors");
        assertOneLineError(run("finetune", "--data", tmp.toString(), "--weights", "none", "--augment",
                "--cache-features"), "--augment");
    }

    @Test
    void helpListsTheSubcommands() {
        Outcome o = run("--help");
        assertEquals(0, o.code());
        for (String c : new String[]{"finetune", "evaluate", "plan"}) assertTrue(o.out().contains(c), o.out());
    }

    @Test
    void evaluatePrintsLossAccuracyAndTheConfusionMatrix() throws Exception {
        Path data = SharedData.require("data/hymenoptera");
        TransferModel model = new TransferModel(Architecture.SQUEEZENET1_1, HeadType.GAP_DENSE, List.of("ants", "bees"));
        Path file = tmp.resolve("model.safetensors");
        ModelFile.save(file, model, ImagePreprocessing.imagenet(), Map.of());
        Outcome o = run("evaluate", "--weights", file.toString(), "--data", data.toString(), "--limit-per-class", "2",
                "--batch", "4", "--device", "cpu", "--no-progress");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("4 images"), o.out());
        assertTrue(o.out().contains("accuracy"), o.out());
        assertTrue(o.out().contains("true\\pred"), o.out());
    }

    @Test
    void planPrintsCountsAndMemoryOfBothPhases() {
        Outcome o = run("plan", "--model", "squeezenet1_1", "--head", "gap-dense", "--batch", "8");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("trainable parameters"), o.out());
        assertTrue(o.out().contains("527,362"), o.out()); // the gap-dense head for 2 classes
        assertTrue(o.out().contains("estimated peak"), o.out());
        assertFalse(o.out().contains("NaN"), o.out());
    }
}
