package dev.kiln.cli;

import dev.kiln.io.cli.ModelKindConverter;
import dev.kiln.io.model.ModelKind;
import dev.kiln.trainer.MemoryPlan;
import dev.kiln.trainer.UserInputException;
import dev.kiln.trainer.model.Backbones;
import dev.kiln.trainer.model.FineTuneModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code kiln plan}: parameter counts and estimated peak training memory of both phases of the recipe. */
@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prints trainable/frozen parameter counts and the estimated peak training memory (weights, "
                + "gradients, Adam state, activations) of both fine-tuning phases for a batch size. Activations "
                + "are measured by running training steps on 1 and 2 images on the CPU.")
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", defaultValue = "resnet50", paramLabel = "NAME", converter = ModelKindConverter.class,
            description = "resnet50 | resnet50-keras | squeezenet1_1 (default: ${DEFAULT-VALUE}).")
    ModelKind model;

    @Option(names = "--head", defaultValue = "flatten-dense", description = "flatten-dense | gap-dense (default: ${DEFAULT-VALUE}).")
    String head;

    @Option(names = "--classes", defaultValue = "2", description = "Number of classes (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--batch", defaultValue = "32", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--unfreeze-from", paramLabel = "LAYER", description = "Phase-2 unfreeze point (default: the last block).")
    String unfreezeFrom;

    @Override
    public Integer call() throws IOException {
        java.io.PrintWriter out = spec.commandLine().getOut();
        if (classes < 2) throw new UserInputException("--classes must be >= 2, got " + classes);
        if (batch < 1) throw new UserInputException("--batch must be >= 1, got " + batch);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classes; i++) names.add("class" + i);
        FineTuneModel m = FineTuneModel.withNewHead(Backbones.load(Backbones.NONE, model), head, names);
        String from = unfreezeFrom != null ? unfreezeFrom : m.card().architecture().lastBlock();
        int size = m.card().preprocessing().crop();
        m.freezeBackbone();
        out.println("measuring phase 1 (two training steps on the CPU) …");
        MemoryPlan.Phase p1 = MemoryPlan.measure(m, size);
        m.unfreezeFrom(from);
        out.println("measuring phase 2 …");
        MemoryPlan.Phase p2 = MemoryPlan.measure(m, size);

        out.printf(Locale.ROOT, "%nplan: %s + %s head, %d classes, batch %d, float32, input 3x%dx%d%n", model.cliName(),
                head, classes, batch, size, size);
        String fmt = "%-34s %22s %22s%n";
        out.printf(Locale.ROOT, fmt, "", "phase 1 (frozen)", "phase 2 (from " + from + ")");
        out.printf(Locale.ROOT, fmt, "trainable parameters", count(p1.trainable()), count(p2.trainable()));
        out.printf(Locale.ROOT, fmt, "frozen parameters + statistics", count(p1.frozen()), count(p2.frozen()));
        out.printf(Locale.ROOT, fmt, "weights", mib(p1.weightBytes()), mib(p2.weightBytes()));
        out.printf(Locale.ROOT, fmt, "gradients", mib(p1.gradientBytes()), mib(p2.gradientBytes()));
        out.printf(Locale.ROOT, fmt, "Adam state (m, v)", mib(p1.adamBytes()), mib(p2.adamBytes()));
        out.printf(Locale.ROOT, fmt, "activations per image", mib(p1.activationBytesPerImage()),
                mib(p2.activationBytesPerImage()));
        out.printf(Locale.ROOT, fmt, "activations, batch " + batch, mib(p1.activationBytes(batch)),
                mib(p2.activationBytes(batch)));
        out.printf(Locale.ROOT, fmt, "conv workspace (CPU, at batch 2)", mib(p1.workspaceBytes()), mib(p2.workspaceBytes()));
        out.printf(Locale.ROOT, fmt, "estimated peak", mib(p1.peakBytes(batch)), mib(p2.peakBytes(batch)));
        out.println("(phase 1 without the feature cache; with it, activations are those of the head only)");
        out.flush();
        return 0;
    }

    private static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,.1f MiB", bytes / 1048576.0);
    }
}
