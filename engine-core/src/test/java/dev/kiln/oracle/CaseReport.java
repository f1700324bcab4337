package dev.kiln.oracle;

import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Compare;
import dev.kiln.testing.OracleCase;

/** Compares a case's expected tensors with computed ones and prints one line per comparison with its error. */
final class CaseReport {
    private final OracleCase oracle;
    private double worst;

    CaseReport(OracleCase oracle) {
        this.oracle = oracle;
    }

    /** Asserts that {@code actual} matches the case's tensor {@code expected} within {@code tolerance} (relative). */
    void close(String expected, Tensor actual, double tolerance) {
        close(expected, oracle.floats(expected), actual.toFloatArray(), tolerance);
    }

    void close(String label, float[] expected, float[] actual, double tolerance) {
        if (expected.length != actual.length) {
            throw new AssertionError(oracle.name() + " " + label + ": expected " + expected.length + " values, got "
                    + actual.length);
        }
        double err = Compare.assertClose(oracle.name() + " " + label, expected, actual, tolerance);
        worst = Math.max(worst, err);
        System.out.printf("  %-34s %-36s max rel err %.2e (tolerance %.0e)%n", oracle.name(), label, err, tolerance);
    }

    /** Asserts bit-identical values. */
    void identical(String label, float[] expected, float[] actual) {
        Compare.assertIdentical(oracle.name() + " " + label, expected, actual);
        System.out.printf("  %-34s %-36s bit-identical%n", oracle.name(), label);
    }

    double worst() {
        return worst;
    }
}
