package dev.kiln.io.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.io.image.ClassScore;
import dev.kiln.io.image.Predictor;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code kiln predict --weights W [--model NAME] [--top K] [--json] IMAGE...}: the top-K classes of each image.
 * An image that cannot be read is reported on stderr (one line) and the others are still classified; the exit code
 * is then {@link CliErrors#EXIT_BAD_INPUT}. Other failures are thrown; the root command reports them.
 */
@Command(name = "predict", mixinStandardHelpOptions = true, description = "Classify images with a pretrained or fine-tuned model.")
public class PredictCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "W",
            description = "a Kiln model file (such as RUN/model.safetensors from kiln finetune), a torchvision .pth, "
                    + "a Keras .h5, the SqueezeNet .npy folder, or 'imagenet' (downloads torchvision's weights once)")
    String weights;

    @Option(names = "--model", paramLabel = "NAME", converter = ModelKindConverter.class,
            description = "resnet50, resnet50-keras or squeezenet1_1; not needed for Kiln files")
    ModelKind model;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "classes per image (default 5)")
    int top;

    @Option(names = "--json", description = "one JSON object per image and line")
    boolean json;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "JPEG, PNG, BMP or GIF files")
    List<Path> images;

    public PredictCommand() {
    }

    @Override
    public Integer call() throws IOException {
        if (top < 1) throw new ParameterException(spec.commandLine(), "--top must be at least 1, got " + top);
        LoadedModel loaded = WeightsOption.load(weights, model, null);
        if (!loaded.card().classifies()) {
            throw new ParameterException(spec.commandLine(), "--weights " + weights + ": the model has no classifier "
                    + "(a backbone without top or head); it outputs features, not classes");
        }
        Predictor predictor = new Predictor(loaded);
        PrintWriter out = spec.commandLine().getOut();
        int status = 0;
        for (Path image : images) {
            try {
                List<ClassScore> scores = predictor.predict(image, top);
                out.println(json ? toJson(image, scores) : toText(image, scores));
                out.flush();
            } catch (IOException e) {
                status = CliErrors.report(spec, e);
            }
        }
        return status;
    }

    static String toJson(Path image, List<ClassScore> scores) {
        ObjectNode o = JSON.createObjectNode();
        o.put("file", image.toString());
        ArrayNode array = o.putArray("top");
        for (ClassScore s : scores) {
            array.addObject().put("index", s.index()).put("label", s.label()).put("prob", s.probability());
        }
        return o.toString();
    }

    static String toText(Path image, List<ClassScore> scores) {
        StringBuilder sb = new StringBuilder(image.toString());
        for (ClassScore s : scores) {
            sb.append(String.format(Locale.ROOT, "%n  %4d  %-30s %6.2f%%", s.index(), s.label(), 100 * s.probability()));
        }
        return sb.toString();
    }
}
