package dev.kiln.cli;

import dev.kiln.backend.Backend;
import dev.kiln.io.model.KilnModelFile;
import dev.kiln.tensor.DType;
import dev.kiln.trainer.Devices;
import dev.kiln.trainer.Evaluator;
import dev.kiln.trainer.OutOfMemoryAdvice;
import dev.kiln.trainer.Reporter;
import dev.kiln.trainer.UserInputException;
import dev.kiln.trainer.data.ImageFolder;
import dev.kiln.trainer.data.Sample;
import dev.kiln.trainer.model.FineTuneModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code kiln evaluate}: loss, accuracy and confusion matrix of a fine-tuned model on labelled images. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluates a model written by 'kiln finetune' on a folder of images, one subfolder per class "
                + "(if the folder has a val/ subfolder, that is used unless --split says otherwise).")
final class EvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "RUN/model.safetensors.")
    Path weights;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Image folder.")
    Path data;

    @Option(names = "--split", paramLabel = "NAME", description = "Subfolder of DIR to evaluate (default: val if present).")
    String split;

    @Option(names = "--batch", defaultValue = "32", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--device", defaultValue = "auto", description = "auto | cpu | cuda (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--limit-per-class", defaultValue = "0", paramLabel = "N", description = "At most N images per class.")
    int limitPerClass;

    @Option(names = "--progress", negatable = true, description = "Progress bar (default: when on a terminal).")
    Boolean progress;

    @Override
    public Integer call() throws IOException {
        java.io.PrintWriter out = spec.commandLine().getOut();
        if (batch < 1) throw new UserInputException("--batch must be >= 1, got " + batch);
        Path dir = split != null ? data.resolve(split) : Files.isDirectory(data.resolve("val")) ? data.resolve("val") : data;
        if (!Files.isDirectory(dir)) throw new UserInputException("--data: no such folder " + dir);
        Backend backend = Devices.select(device);
        FineTuneModel model = FineTuneModel.of(KilnModelFile.load(weights), weights);
        model.network().to(backend, DType.F32);
        List<Sample> samples = ImageFolder.samples(dir, model.classes(), limitPerClass);
        if (samples.isEmpty()) throw new UserInputException(dir + ": no images in the class folders " + model.classes());
        boolean bars = progress != null ? progress : System.console() != null;
        Evaluator.Result r;
        try {
            r = Evaluator.evaluate(model, samples, backend, batch, 4,
                    Reporter.of(spec.commandLine().getOut(), spec.commandLine().getErr(), bars));
        } catch (RuntimeException e) {
            throw OutOfMemoryAdvice.atBatchSize(e, batch, null);  // kiln plan sizes training, not evaluation
        }
        out.printf(Locale.ROOT, "model: %s (%s + %s head, classes %s)%n", weights,
                model.card().architecture(), model.card().head().type(), model.classes());
        out.printf(Locale.ROOT, "data: %s, %d images%s%n", dir, r.images(),
                r.skipped().count() > 0 ? " (" + r.skipped().count() + " unreadable files skipped)" : "");
        out.printf(Locale.ROOT, "loss %.4f  accuracy %.4f%n", r.loss(), r.accuracy());
        out.print(r.confusion().render());
        out.flush();
        return 0;
    }
}
