package dev.kiln.cli;

import dev.kiln.io.cli.ModelKindConverter;
import dev.kiln.io.model.ModelKind;
import dev.kiln.trainer.Checkpoint;
import dev.kiln.trainer.FineTuneOptions;
import dev.kiln.trainer.FineTuner;
import dev.kiln.trainer.Reporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code kiln finetune}: the Keras transfer-learning recipe (frozen backbone, then its top unfrozen). */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Fine-tunes a pretrained backbone with a new head on a folder of images (one subfolder per class, "
                        + "or train/ and val/ with one subfolder per class each).",
                "Phase 1 trains the head with the backbone frozen; phase 2 unfreezes the backbone's last block "
                        + "and continues with a small learning rate. Writes history.json/csv, accuracy.png, "
                        + "loss.png, model.safetensors (best val accuracy) and checkpoint.safetensors to --out."
        })
final class FinetuneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", description = "Image folder (e.g. ../shared/data/hymenoptera).")
    Path data;

    @Option(names = "--val-split", defaultValue = "0.2", description = "Validation fraction when DIR has no "
            + "train/ and val/ (default: ${DEFAULT-VALUE}).")
    double valSplit;

    @Option(names = "--model", paramLabel = "NAME", converter = ModelKindConverter.class, description = "resnet50 | "
            + "resnet50-keras | squeezenet1_1 (default: told from --weights; resnet50 for imagenet and none).")
    ModelKind model;

    @Option(names = "--weights", defaultValue = "imagenet", paramLabel = "PATH", description = "Backbone weights, "
            + "loaded without their ImageNet top: a torchvision .pth, a Keras .h5, a Kiln .safetensors (also a "
            + "fine-tuned one) or the SqueezeNet .npy folder; 'imagenet' downloads torchvision's weights once; "
            + "'none' keeps the random initialization (default: ${DEFAULT-VALUE}).")
    String weights;

    @Option(names = "--head", defaultValue = "flatten-dense", description = "flatten-dense | gap-dense (default: ${DEFAULT-VALUE}).")
    String head;

    @Option(names = "--epochs", defaultValue = "5", description = "Phase-1 epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--fine-tune-epochs", defaultValue = "5", description = "Phase-2 epochs (default: ${DEFAULT-VALUE}).")
    int fineTuneEpochs;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Phase-1 Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--fine-tune-lr", defaultValue = "1e-5", description = "Phase-2 learning rate (default: ${DEFAULT-VALUE}).")
    double fineTuneLr;

    @Option(names = "--unfreeze-from", paramLabel = "LAYER", description = "Backbone layer from which phase 2 "
            + "unfreezes (default: the last block: layer4.2 for resnet50, features.12 for squeezenet1_1).")
    String unfreezeFrom;

    @Option(names = "--batch", defaultValue = "32", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the split, data order and augmentation "
            + "(default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--device", defaultValue = "auto", description = "auto | cpu | cuda (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--out", defaultValue = "runs/finetune", paramLabel = "DIR", description = "Output folder "
            + "(default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--resume", arity = "0..1", fallbackValue = "", paramLabel = "CHECKPOINT", description = "Continue "
            + "from a checkpoint (default: OUT/" + Checkpoint.FILE_NAME + ").")
    String resume;

    @Option(names = "--augment", description = "Random resized crops and horizontal flips while training.")
    boolean augment;

    @Option(names = "--cache-features", negatable = true, description = "Compute the frozen backbone's features "
            + "once for phase 1 (default: on when valid, i.e. without --augment).")
    Boolean cacheFeatures;

    @Option(names = "--limit-per-class", defaultValue = "0", paramLabel = "N", description = "Use at most N images "
            + "per class and split, for quick runs (default: all).")
    int limitPerClass;

    @Option(names = "--workers", paramLabel = "N", description = "Image decoding threads (default: up to 4).")
    Integer workers;

    @Option(names = "--progress", negatable = true, description = "Progress bars (default: when on a terminal).")
    Boolean progress;

    @Override
    public Integer call() throws Exception {
        FineTuneOptions o = new FineTuneOptions();
        o.data = data;
        o.valSplit = valSplit;
        o.model = model;
        o.weights = weights;
        o.head = head;
        o.epochs = epochs;
        o.fineTuneEpochs = fineTuneEpochs;
        o.lr = lr;
        o.fineTuneLr = fineTuneLr;
        o.unfreezeFrom = unfreezeFrom;
        o.batch = batch;
        o.seed = seed;
        o.device = device;
        o.out = out;
        o.resume = resume == null ? null : resume.isEmpty() ? out.resolve(Checkpoint.FILE_NAME) : Path.of(resume);
        o.augment = augment;
        o.cacheFeatures = cacheFeatures;
        o.limitPerClass = limitPerClass;
        if (workers != null) o.workers = workers;
        boolean bars = progress != null ? progress : System.console() != null;
        new FineTuner(o, Reporter.of(spec.commandLine().getOut(), spec.commandLine().getErr(), bars)).run();
        return 0;
    }
}
