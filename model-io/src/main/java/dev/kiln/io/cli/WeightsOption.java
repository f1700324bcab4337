package dev.kiln.io.cli;

import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelKind;
import dev.kiln.io.model.WeightImport;
import dev.kiln.io.pretrained.PretrainedWeights;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What {@code --weights} may name, for every command that takes it: {@value #IMAGENET} (torchvision's ImageNet
 * weights, downloaded once), or a file or folder in any format {@link WeightImport} reads.
 */
public final class WeightsOption {
    public static final String IMAGENET = "imagenet";

    private WeightsOption() {
    }

    /**
     * @param weights    "imagenet" or a path
     * @param kind       the --model value, or null (a Kiln file or telling names need none; imagenet means resnet50)
     * @param includeTop whether to keep the classifier top, or null to keep it when the weights have one
     */
    public static LoadedModel load(String weights, ModelKind kind, Boolean includeTop) throws IOException {
        if (weights.equals(IMAGENET)) {
            ModelKind k = kind == null ? ModelKind.RESNET50 : kind;
            return WeightImport.load(PretrainedWeights.fromEnvironment().imagenetFile(k), k, includeTop);
        }
        return WeightImport.load(Path.of(weights), kind, includeTop);
    }
}
