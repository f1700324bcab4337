package dev.kiln.io.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;

/**
 * How every {@code kiln} subcommand reports a failure: one line on stderr, {@code kiln COMMAND: what went wrong},
 * never a stack trace, and exit code {@link #EXIT_BAD_INPUT} when the input is at fault. The root command (the
 * trainer's {@code KilnCli}) applies this to whatever a command throws; a command that carries on after a failure
 * ({@code predict}, image by image) reports each one itself.
 */
public final class CliErrors {
    /** Bad input: a missing or malformed file, an option value that cannot work. picocli's code for usage errors. */
    public static final int EXIT_BAD_INPUT = CommandLine.ExitCode.USAGE;

    private CliErrors() {
    }

    /** Prints the one-line report of {@code problem} for the command of {@code spec}; returns {@link #EXIT_BAD_INPUT}. */
    public static int report(CommandSpec spec, Throwable problem) {
        PrintWriter err = spec.commandLine().getErr();
        err.println(line(spec, messageOf(problem)));
        err.flush();
        return EXIT_BAD_INPUT;
    }

    /** {@code kiln COMMAND: message}, on one line. */
    public static String line(CommandSpec spec, String message) {
        return spec.qualifiedName() + ": " + message.replaceAll("\\s*\\R\\s*", " ");
    }

    /** The exception's message; its class name when it has none. */
    public static String messageOf(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
