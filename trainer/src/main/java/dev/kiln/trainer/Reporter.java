package dev.kiln.trainer;

import java.io.PrintWriter;

/**
 * Where the trainer writes what a user reads: progress lines, warnings and the summary. The CLI prints them;
 * tests collect them.
 */
public interface Reporter {

    void info(String line);

    void warn(String line);

    /** Whether per-batch progress bars should be drawn (off in tests and when output is not a terminal). */
    default boolean showProgress() {
        return false;
    }

    /** Prints to the given writers (the CLI's, so that tests can capture them). */
    static Reporter of(PrintWriter out, PrintWriter err, boolean progress) {
        return new Reporter() {
            @Override
            public void info(String line) {
                out.println(line);
                out.flush();
            }

            @Override
            public void warn(String line) {
                err.println("warning: " + line);
                err.flush();
            }

            @Override
            public boolean showProgress() {
                return progress;
            }
        };
    }

    /** Discards everything. */
    static Reporter silent() {
        return new Reporter() {
            @Override
            public void info(String line) {
            }

            @Override
            public void warn(String line) {
            }
        };
    }
}
