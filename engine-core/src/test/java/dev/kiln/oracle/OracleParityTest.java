package dev.kiln.oracle;

import dev.kiln.backend.Backend;
import dev.kiln.testing.OracleCase;
import dev.kiln.testing.SharedData;
import dev.kiln.testing.TestBackends;
import dev.kiln.tensor.MemoryScope;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs every case file in the oracle directory ({@code KILN_ORACLE_DIR}, else {@code ../shared/oracle/cases}) on
 * the backend under test, dispatching on the case's {@code params.op}. No case names appear in the code: a new
 * file is a new test. Each comparison prints the case, the tensor and its error; tolerances are stated in
 * {@link OracleHandlers}. Files whose op is "data" are inputs of other cases, not cases. Ops that belong to
 * another module are reported as skipped with the reason.
 */
class OracleParityTest {

    @TestFactory
    Stream<DynamicTest> everyOracleCase() throws IOException {
        Path dir = SharedData.require(SharedData.oracleDir());
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            files = listing.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> run(file)));
    }

    private static void run(Path file) {
        OracleCase oracle = OracleCase.read(file);
        String op = oracle.op();
        Assumptions.assumeFalse(op.equals("data"), oracle.name() + " holds data for other cases; not a case itself");
        String elsewhere = OracleHandlers.handledElsewhere(op);
        Assumptions.assumeTrue(elsewhere == null, oracle.name() + " (op '" + op + "'): " + elsewhere);
        OracleHandlers.Handler handler = OracleHandlers.forOp(op);
        Assumptions.assumeTrue(handler != null, oracle.name() + ": no handler for op '" + op + "' yet");
        Backend backend = TestBackends.underTest();
        System.out.println("case " + oracle.name() + " (op '" + op + "', backend " + backend.name() + ")");
        try (MemoryScope scope = MemoryScope.open()) {
            CaseReport report = new CaseReport(oracle);
            handler.run(oracle, backend, report);
            System.out.printf("  %-34s worst relative error %.2e%n", oracle.name(), report.worst());
        }
    }
}
