package dev.kiln.io.cli;

import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelKind;
import dev.kiln.io.model.WeightImport;
import dev.kiln.io.pretrained.PretrainedWeights;

import java.io.IOException;
import java.nio.file.Path;

/** What {@code --weights} may name: {@value #IMAGENET}, or a file or folder in any supported format. */
final class WeightsOption {
    static final String IMAGENET = "imagenet";

    private WeightsOption() {
    }

    /**
     * @param weights "imagenet" or a path
     * @param model   the --model value, or null (a Kiln file or telling names need none; imagenet means resnet50)
     */
    static LoadedModel load(String weights, String model, Boolean includeTop) throws IOException {
        ModelKind kind = model == null ? null : ModelKind.fromCliName(model);
        if (weights.equals(IMAGENET)) {
            return PretrainedWeights.fromEnvironment().imagenet(kind == null ? ModelKind.RESNET50 : kind);
        }
        return WeightImport.load(Path.of(weights), kind, includeTop);
    }
}
