package dev.kiln.io.cli;

import dev.kiln.io.model.KilnModelFile;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelCard;
import dev.kiln.io.model.ModelKind;
import dev.kiln.io.model.WeightImport;
import dev.kiln.nn.Layer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code kiln convert --from IN --to OUT.safetensors [--model NAME] [--[no-]include-top]}: any supported weight file
 * to a Kiln model file (safetensors with its model card), which {@code predict} and the trainer load without flags.
 * Failures are thrown; the root command reports them ({@link CliErrors}).
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a torchvision .pth, Keras .h5, folder of .npy or safetensors file to a Kiln model file.")
public class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "IN", description = "the weight file or .npy folder")
    Path from;

    @Option(names = "--to", required = true, paramLabel = "OUT.safetensors", description = "the Kiln file to write")
    Path to;

    @Option(names = "--model", paramLabel = "NAME", converter = ModelKindConverter.class,
            description = "resnet50 (torchvision), resnet50-keras or squeezenet1_1; default: told from the tensor names")
    ModelKind model;

    @Option(names = "--include-top", negatable = true,
            description = "keep the ImageNet classifier (--no-include-top: backbone only); default: keep it if the file has one")
    Boolean includeTop;

    public ConvertCommand() {
    }

    @Override
    public Integer call() throws IOException {
        LoadedModel loaded = WeightImport.load(from, model, includeTop);
        KilnModelFile.save(to, loaded.model(), loaded.card());
        spec.commandLine().getOut().println("wrote " + to + ": " + describe(loaded.card(), loaded.model()));
        spec.commandLine().getOut().flush();
        return 0;
    }

    static String describe(ModelCard card, Layer model) {
        return card.architecture().cardName()
                + (card.variant() == null ? "" : " (" + card.variant().name().toLowerCase(Locale.ROOT) + ")")
                + (card.includeTop() ? ", " + card.classes() + " classes" : ", without top")
                + ", " + Layer.count(model.allParameters()) + " values, preprocessing " + card.preprocessing().name();
    }
}
