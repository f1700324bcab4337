package dev.kiln.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HistoryTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripsThroughJsonAndKnowsThePhaseBoundary() throws Exception {
        History h = new History();
        h.add(new EpochRecord(1, 1, 0.7, 0.5, 0.6, 0.55, 1e-3, 2.5));
        h.add(new EpochRecord(2, 1, 0.4, 0.8, 0.5, 0.75, 1e-3, 2.0));
        h.add(new EpochRecord(3, 2, 0.3, 0.9, 0.45, 0.8, 1e-5, 9.0));
        h.writeJson(tmp.resolve("history.json"));
        assertEquals(h.records(), History.readJson(tmp.resolve("history.json")).records());
        assertEquals(2, h.phaseBoundary());
        assertEquals(2, h.epochsInPhase(1));
        assertEquals(0.8, h.bestValAccuracy());
        Plots.write(h, tmp);
    }
}
