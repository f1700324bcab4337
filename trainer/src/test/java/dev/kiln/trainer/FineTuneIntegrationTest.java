package dev.kiln.trainer;

import dev.kiln.io.AtomicFiles;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.maps.SqueezeNetNpyNames;
import dev.kiln.io.model.ModelKind;
import dev.kiln.io.npy.NpyDirectory;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code finetune} end to end on a small slice of hymenoptera with the real SqueezeNet 1.1 weights, on the CPU:
 * 8 images per class and split, batch 4, so each run takes seconds.
 */
class FineTuneIntegrationTest {
    @TempDir
    Path tmp;

    static FineTuneOptions smallRun(Path out) {
        FineTuneOptions o = new FineTuneOptions();
        o.data = SharedData.require("data/hymenoptera");
        o.weights = SharedData.require("data/squeezenet1_1").toString();
        o.model = ModelKind.SQUEEZENET1_1;
        o.head = "gap-dense";
        o.limitPerClass = 8;
        o.epochs = 1;
        o.fineTuneEpochs = 1;
        o.batch = 4;
        o.seed = 7;
        o.device = "cpu";
        o.workers = 2;
        o.out = out;
        return o;
    }

    @Test
    void phase1LeavesTheFrozenBackboneBitIdenticalAndWritesHistoryAndPlots() throws Exception {
        FineTuneOptions o = smallRun(tmp.resolve("run"));
        CollectingReporter log = new CollectingReporter();
        FineTuneResult r = new FineTuner(o, log).run();
        assertTrue(log.lines.stream().anyMatch(l -> l.startsWith("feature cache:") && l.contains("saves about")),
                "phase 1 used the feature cache and said what it saved: " + log.lines);

        // Phase 1 ran on cached features; phase 2 on images. The checkpoint after phase 2 still holds the
        // pretrained values for everything below features.12, and phase 1's checkpoint held them all.
        NamedTensors pretrained = NpyDirectory.read(Path.of(o.weights));
        NamedTensors cp = SafeTensors.read(o.out.resolve(Checkpoint.FILE_NAME));
        SqueezeNetNpyNames names = new SqueezeNetNpyNames();
        int compared = 0;
        for (int conv = 0; conv <= 21; conv++) { // features.0 … features.11: frozen in both phases
            for (String kind : new String[]{"weight", "bias"}) {
                String npy = "squeezenet0_conv" + conv + "_" + kind;
                String key = "model.backbone." + names.target(npy).path();
                assertArrayEquals(pretrained.get(npy).toBytes(), cp.get(key).toBytes(), key + " changed");
                compared++;
            }
        }
        assertEquals(44, compared);
        // features.12 was unfrozen in phase 2 and moved (slightly: lr 1e-5).
        assertFalse(java.util.Arrays.equals(pretrained.get("squeezenet0_conv24_weight").toBytes(),
                cp.get("model.backbone.features.12.expand3x3.weight").toBytes()), "features.12 should have trained");

        List<EpochRecord> h = r.history().records();
        assertEquals(2, h.size());
        assertEquals(List.of(1, 2), h.stream().map(EpochRecord::epoch).toList());
        assertEquals(List.of(1, 2), h.stream().map(EpochRecord::phase).toList());
        assertEquals(1e-3, h.get(0).lr(), 1e-12);
        assertEquals(1e-5, h.get(1).lr(), 1e-15);
        for (EpochRecord e : h) {
            assertTrue(Double.isFinite(e.loss()) && Double.isFinite(e.valLoss()), e.toString());
            assertTrue(e.accuracy() >= 0 && e.accuracy() <= 1 && e.valAccuracy() >= 0 && e.valAccuracy() <= 1);
        }
        assertEquals(h, History.readJson(o.out.resolve("history.json")).records());
        List<String> csv = Files.readAllLines(o.out.resolve("history.csv"));
        assertEquals(3, csv.size());
        assertEquals("epoch,phase,loss,accuracy,val_loss,val_accuracy,lr,seconds", csv.get(0));
        for (String png : new String[]{"accuracy.png", "loss.png"}) {
            BufferedImage img = ImageIO.read(o.out.resolve(png).toFile());
            assertNotNull(img, png + " is not a readable PNG");
            assertEquals(800, img.getWidth());
        }
        assertTrue(Files.exists(o.out.resolve(FineTuner.MODEL_FILE)));
        assertEquals(16, r.finalConfusion().total(), "the last epoch's confusion matrix counts the 16 val images");
        assertNoTemporaryFiles(o.out);
    }

    @Test
    void resumingFromThePhase1CheckpointGivesTheSamePhase2AsAnUninterruptedRun() throws Exception {
        FineTuneOptions whole = smallRun(tmp.resolve("whole"));
        FineTuneResult uninterrupted = new FineTuner(whole, new CollectingReporter()).run();

        FineTuneOptions first = smallRun(tmp.resolve("split"));
        first.fineTuneEpochs = 0; // stops after phase 1, leaving its checkpoint
        new FineTuner(first, new CollectingReporter()).run();
        FineTuneOptions second = smallRun(tmp.resolve("split"));
        second.resume = second.out.resolve(Checkpoint.FILE_NAME);
        CollectingReporter log = new CollectingReporter();
        FineTuneResult resumed = new FineTuner(second, log).run();

        assertTrue(log.lines.stream().anyMatch(l -> l.startsWith("resumed from")), log.lines.toString());
        EpochRecord a = uninterrupted.history().records().get(1);
        EpochRecord b = resumed.history().records().get(1);
        assertEquals(2, b.phase());
        assertEquals(a.loss(), b.loss(), 0.0, "phase-2 training loss");
        assertEquals(a.accuracy(), b.accuracy(), 0.0);
        assertEquals(a.valLoss(), b.valLoss(), 0.0, "phase-2 validation loss");
        assertEquals(a.valAccuracy(), b.valAccuracy(), 0.0);
        assertArrayEquals(SafeTensors.read(whole.out.resolve(Checkpoint.FILE_NAME)).get("model.dense.weight").toBytes(),
                SafeTensors.read(second.out.resolve(Checkpoint.FILE_NAME)).get("model.dense.weight").toBytes(),
                "head weights after phase 2");
    }

    @Test
    void aCrashWhileWritingACheckpointLeavesThePreviousOneLoadable() throws Exception {
        FineTuneOptions o = smallRun(tmp.resolve("crash"));
        o.limitPerClass = 4;
        o.epochs = 2;
        o.fineTuneEpochs = 0;
        int[] writes = {0};
        o.checkpointHook = temp -> {
            if (++writes[0] == 2) {
                // The new checkpoint is complete under its temporary name; the process "dies" before the rename.
                assertTrue(Files.size(temp) > 0);
                throw new IOException("simulated crash between writing " + temp.getFileName() + " and renaming it");
            }
        };
        IOException crash = assertThrows(IOException.class, () -> new FineTuner(o, new CollectingReporter()).run());
        assertTrue(crash.getMessage().contains("simulated crash"));

        Checkpoint cp = Checkpoint.load(o.out.resolve(Checkpoint.FILE_NAME));
        assertEquals(1, cp.epochsDone(), "the checkpoint of epoch 1 survives");
        assertNoTemporaryFiles(o.out);

        // A kill leaves the temporary file behind; it is ignored and replaced by the next write.
        Files.write(o.out.resolve("." + Checkpoint.FILE_NAME + AtomicFiles.TEMP_SUFFIX), new byte[]{1, 2, 3});
        FineTuneOptions again = smallRun(o.out);
        again.limitPerClass = 4;
        again.epochs = 2;
        again.fineTuneEpochs = 0;
        again.resume = o.out.resolve(Checkpoint.FILE_NAME);
        FineTuneResult r = new FineTuner(again, new CollectingReporter()).run();
        assertEquals(2, r.history().size());
        assertEquals(2, Checkpoint.load(o.out.resolve(Checkpoint.FILE_NAME)).epochsDone());
        assertNoTemporaryFiles(o.out);
    }

    @Test
    void aLossThatBecomesInfiniteStopsTheRunAndKeepsTheLastGoodCheckpoint() throws Exception {
        FineTuneOptions o = smallRun(tmp.resolve("nan"));
        o.limitPerClass = 4;
        o.fineTuneLr = 1e30; // phase 2 blows up on purpose
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> new FineTuner(o, new CollectingReporter()).run());
        assertTrue(e.getMessage().contains("phase 2"), e.getMessage());
        assertTrue(e.getMessage().contains("last good checkpoint"), e.getMessage());
        assertEquals(1, Checkpoint.load(o.out.resolve(Checkpoint.FILE_NAME)).epochsDone());
    }

    @Test
    void unreadableFilesAreSkippedWithAWarningNamingThemAlsoWhenAugmenting() throws Exception {
        // One folder per class, split by --val-split; one "image" is not an image.
        Path data = tmp.resolve("data");
        Path hymenoptera = SharedData.require("data/hymenoptera/train");
        for (String c : new String[]{"ants", "bees"}) {
            Files.createDirectories(data.resolve(c));
            try (Stream<Path> files = Files.list(hymenoptera.resolve(c))) {
                for (Path f : files.sorted().limit(5).toList()) Files.copy(f, data.resolve(c).resolve(f.getFileName()));
            }
        }
        Path broken = data.resolve("bees").resolve("broken.jpg");
        Files.writeString(broken, "this is not a JPEG");
        FineTuneOptions o = smallRun(tmp.resolve("skip"));
        o.data = data;
        o.valSplit = 0.4;
        o.fineTuneEpochs = 0;
        o.augment = true; // decodes every epoch (no feature cache), through the augmentation path
        CollectingReporter log = new CollectingReporter();
        FineTuneResult r = new FineTuner(o, log).run();
        assertTrue(log.lines.stream().noneMatch(l -> l.startsWith("feature cache:")), log.lines.toString());
        assertEquals(1, r.skippedFiles());
        assertTrue(log.warnings.stream().anyMatch(w -> w.contains("broken.jpg") && w.contains("not an image")),
                log.warnings.toString());
    }

    static void assertNoTemporaryFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> temps = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
            assertTrue(temps.isEmpty(), "temporary files left: " + temps);
        }
    }
}
