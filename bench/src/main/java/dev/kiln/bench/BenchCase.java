package dev.kiln.bench;

import dev.kiln.backend.Backend;

import java.util.Locale;

/** The cases of {@code bench_torch_resnet50.py} that ResNetBench reproduces, by their command-line names. */
public enum BenchCase {
    INFERENCE("inference"),
    TRAIN("train"),
    FROZEN("frozen"),
    UNFREEZE_LAYER4("unfreeze-layer4");

    private final String cliName;

    BenchCase(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** Builds the model, inputs and optimizer of this case on {@code backend}. */
    Workload build(Backend backend, int batch) {
        return switch (this) {
            case INFERENCE -> new InferenceWorkload(backend, batch);
            case TRAIN -> new TrainWorkload(backend, batch);
            case FROZEN -> FineTuneWorkload.frozen(backend, batch);
            case UNFREEZE_LAYER4 -> FineTuneWorkload.unfrozenLayer4(backend, batch);
        };
    }

    public static BenchCase parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (BenchCase c : values()) if (c.cliName.equals(n)) return c;
        throw new IllegalArgumentException("unknown case '" + name + "'; expected inference, train, frozen or "
                + "unfreeze-layer4");
    }
}
