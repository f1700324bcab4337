package dev.kiln.trainer.data;

import dev.kiln.trainer.Reporter;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchLoaderTest {

    @Test
    void batchesComeInOrderWhateverOrderTheThreadsFinishInAndPrefetchIsBounded() throws Exception {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < 50; i++) samples.add(new Sample(Path.of("img" + i + ".jpg"), i % 3, i));
        AtomicInteger started = new AtomicInteger();
        AtomicInteger consumedImages = new AtomicInteger();
        int[] maxAhead = {0};
        ExecutorService pool = Executors.newFixedThreadPool(4);
        SkippedFiles skipped = new SkippedFiles(Reporter.silent());
        try (BatchLoader loader = new BatchLoader(samples, 8, s -> {
            int ahead = started.incrementAndGet() - consumedImages.get();
            synchronized (maxAhead) {
                maxAhead[0] = Math.max(maxAhead[0], ahead);
            }
            try {
                Thread.sleep(ThreadLocalRandom.current().nextInt(3));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (s.index() == 13) throw new IOException(s.file() + ": not an image (test)");
            return new float[]{s.index(), -s.index()};
        }, pool, 2, skipped)) {
            List<Integer> seen = new ArrayList<>();
            while (loader.hasNext()) {
                Batch b = loader.next();
                if (b.samples().get(0).index() == 8) assertEquals(7, b.size(), "the batch that held the unreadable file is short");
                for (int i = 0; i < b.size(); i++) {
                    assertEquals(b.samples().get(i).index(), (int) b.images()[2 * i]);
                    assertEquals(b.samples().get(i).label(), b.labels()[i]);
                    seen.add(b.samples().get(i).index());
                }
                consumedImages.addAndGet(8); // one batch's worth of positions (the last is short)
            }
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 50; i++) if (i != 13) expected.add(i);
            assertEquals(expected, seen);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, skipped.count());
        assertTrue(skipped.contains(Path.of("img13.jpg")));
        assertTrue(maxAhead[0] <= 2 * 8 + 8, "at most two batches ahead (plus the one being consumed), got " + maxAhead[0]);
    }
}
