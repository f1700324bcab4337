package dev.kiln.io.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * A stand-alone entry point with model-io's two commands, for trying them without the trainer's {@code kiln} root
 * command (which registers {@link ConvertCommand} and {@link PredictCommand} itself).
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, subcommands = {ConvertCommand.class, PredictCommand.class},
        description = "Kiln model-io commands: convert weight files, classify images.")
public class KilnIoMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new KilnIoMain()).execute(args));
    }
}
