package dev.kiln.trainer;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.bench.ResNetBench;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The benchmark that {@code scripts/gpu-check.sh} runs on a GPU (ResNet50, training step and frozen phase, JSON
 * out), run here on the "cuda-emulated" backend at batch 2, so that a GPU run does not fail on the harness itself.
 * Its figures mean nothing; only that both cases run and report.
 */
class BenchOnEmulatedCudaTest {

    @Test
    void theGpuCheckBenchmarkRunsOnTheCudaBackendsCode() throws Exception {
        assumeTrue(Backends.find("cuda-emulated").isPresent(), "skipped: the cuda-emulated backend is unavailable");
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        Backend previousDefault = Backends.defaultBackend();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new ResNetBench()).execute("--device", "cuda-emulated", "--case", "train,frozen",
                    "--batch", "2", "--steps", "1", "--warmup", "0", "--json");
        } finally {
            System.setOut(stdout);
            Backends.setDefaultBackend(previousDefault);  // the benchmark made the emulated backend the default
        }
        assertEquals(0, exit);
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), "one JSON object per case: " + lines);
        for (String line : lines) {
            JsonNode result = new ObjectMapper().readTree(line);
            assertEquals("cuda", result.get("device").asText(), line);
            assertTrue(result.get("images_per_second").asDouble() > 0, line);
        }
    }
}
