package dev.kiln.cli;

import dev.kiln.bench.ResNetBench;
import dev.kiln.io.WeightFormatException;
import dev.kiln.io.cli.CliErrors;
import dev.kiln.io.cli.ConvertCommand;
import dev.kiln.io.cli.PredictCommand;
import dev.kiln.trainer.TrainingDivergedException;
import dev.kiln.trainer.UserInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code kiln} command. To add a subcommand, write one class annotated with {@code @Command} and add it to
 * the {@code subcommands} list below (model-io's {@code convert} and {@code predict} are there).
 *
 * <p>Exit codes, the same for every subcommand: 0 success, 2 bad input ({@link CliErrors#EXIT_BAD_INPUT}), 3 training
 * diverged, 70 an internal error. Every failure is one line on stderr, {@code kiln COMMAND: what went wrong}; a stack
 * trace only with {@code KILN_DEBUG=1}. Commands throw; this class reports. Only {@link #main} calls
 * {@code System.exit}.
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, version = "kiln 0.1.0",
        description = "Kiln: train and fine-tune image classifiers in Java.",
        subcommands = {
                FinetuneCommand.class,
                EvaluateCommand.class,
                PlanCommand.class,
                ConvertCommand.class,
                PredictCommand.class,
                ResNetBench.class,
                CommandLine.HelpCommand.class,
        })
public final class KilnCli implements Runnable {
    public static final int EXIT_BAD_INPUT = CliErrors.EXIT_BAD_INPUT;
    public static final int EXIT_DIVERGED = 3;
    public static final int EXIT_INTERNAL = 70;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * The engine's own log (java.util.logging, such as "backend 'cuda' is unavailable" when --device auto falls back
     * to the CPU): warnings only, unless KILN_DEBUG is set, so that stderr holds the commands' one-line reports.
     * Kept in a field: the logging framework holds loggers weakly, and a collected one forgets its level.
     */
    private static final Logger ENGINE_LOG = Logger.getLogger("dev.kiln");

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        if (System.getenv("KILN_DEBUG") == null) ENGINE_LOG.setLevel(Level.WARNING);
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** Same, writing to the given writers instead of stdout and stderr. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new KilnCli());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(KilnCli::badArguments);
        cl.setExecutionExceptionHandler(KilnCli::failed);
        return cl;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    private static int badArguments(CommandLine.ParameterException e, String[] args) {
        CommandLine.Model.CommandSpec command = e.getCommandLine().getCommandSpec();
        e.getCommandLine().getErr().println(CliErrors.line(command, CliErrors.messageOf(e)
                + " (see '" + command.qualifiedName() + " --help')"));
        return EXIT_BAD_INPUT;
    }

    private static int failed(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (System.getenv("KILN_DEBUG") != null) e.printStackTrace(err);
        CommandLine.Model.CommandSpec command = cl.getCommandSpec();
        if (e instanceof UserInputException || e instanceof WeightFormatException) {
            return CliErrors.report(command, e);
        }
        if (e instanceof IOException || e instanceof UncheckedIOException) {
            Throwable io = e instanceof UncheckedIOException u ? u.getCause() : e;
            err.println(CliErrors.line(command, "I/O error (" + io.getClass().getSimpleName() + "): "
                    + CliErrors.messageOf(e)));
            return EXIT_BAD_INPUT;
        }
        if (e instanceof TrainingDivergedException) {
            err.println(CliErrors.line(command, CliErrors.messageOf(e)));
            return EXIT_DIVERGED;
        }
        err.println(CliErrors.line(command, "internal error: " + e + " (set KILN_DEBUG=1 for the stack trace)"));
        return EXIT_INTERNAL;
    }
}
