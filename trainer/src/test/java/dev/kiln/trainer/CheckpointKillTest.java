package dev.kiln.trainer;

import dev.kiln.io.AtomicFiles;
import dev.kiln.io.model.ModelKind;
import dev.kiln.optim.Adam;
import dev.kiln.trainer.model.Backbones;
import dev.kiln.trainer.model.FineTuneModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kills a JVM (SIGKILL) while it rewrites its checkpoint in a loop: whatever moment the kill hits, the checkpoint
 * under the real name is a complete one.
 */
class CheckpointKillTest {
    @TempDir
    Path tmp;

    /** The child: writes checkpoints of a growing history forever, printing each epoch count once it is on disk. */
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        FineTuneModel model = FineTuneModel.withNewHead(Backbones.load(Backbones.NONE, ModelKind.SQUEEZENET1_1),
                "gap-dense", List.of("a", "b"));
        Adam adam = new Adam(model.network(), 1e-3);
        History history = new History();
        Checkpoint.RunIdentity id = Checkpoint.RunIdentity.of(model, 1);
        for (int epoch = 1; ; epoch++) {
            history.add(new EpochRecord(epoch, 1, 1.0 / epoch, 0.5, 1.0, 0.5, 1e-3, 1));
            Checkpoint.save(file, model, adam, history, id, AtomicFiles.BeforeCommit.NOTHING);
            System.out.println("written " + epoch);
            System.out.flush();
        }
    }

    @Test
    void killingTheProcessMidWriteLeavesACompleteCheckpoint() throws Exception {
        Path file = tmp.resolve(Checkpoint.FILE_NAME);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                CheckpointKillTest.class.getName(), file.toString()).redirectErrorStream(true).start();
        int lastWritten = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("written ")) lastWritten = Integer.parseInt(line.substring(8));
                if (lastWritten >= 3) break; // several writes done; the next one is under way
            }
            Thread.sleep(15); // land somewhere inside the next write
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child did not die");
        } finally {
            child.destroyForcibly();
        }
        assertTrue(lastWritten >= 3, "the child never wrote three checkpoints");
        Checkpoint cp = Checkpoint.load(file);
        assertTrue(cp.epochsDone() >= lastWritten, "epochs " + cp.epochsDone() + " < " + lastWritten);
        assertEquals(cp.epochsDone(), cp.history().size());
    }
}
