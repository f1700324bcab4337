package dev.kiln.io.cli;

import picocli.CommandLine.Model.CommandSpec;

/** How the commands report a failure: one line on stderr naming the command and the cause, and exit code 1. */
final class CliErrors {
    static final int FAILED = 1;

    private CliErrors() {
    }

    static int report(CommandSpec spec, Throwable e) {
        spec.commandLine().getErr().println("kiln " + spec.name() + ": " + oneLine(e));
        spec.commandLine().getErr().flush();
        return FAILED;
    }

    /** The exception's message on one line; its class name when it has none. */
    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) m = e.getClass().getSimpleName();
        return m.replaceAll("\\s*\\R\\s*", " ");
    }
}
