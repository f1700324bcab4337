package dev.kiln.trainer.model;

import dev.kiln.io.cli.WeightsOption;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelCard;
import dev.kiln.io.model.ModelKind;
import dev.kiln.trainer.UserInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The backbone {@code --weights} names, without its classifier top: through model-io's {@link WeightsOption}, so
 * anything {@code kiln predict} reads works here too (torchvision .pth, Keras .h5, the SqueezeNet .npy folder, a
 * Kiln file, {@value WeightsOption#IMAGENET}); or {@value #NONE} for a freshly initialized one.
 */
public final class Backbones {
    /** The value of --weights that keeps the random initialization. */
    public static final String NONE = "none";

    private Backbones() {
    }

    /**
     * @param kind the --model value, or null: told from the weights (resnet50 for imagenet and none)
     */
    public static LoadedModel load(String weights, ModelKind kind) throws IOException {
        if (weights.equals(NONE)) {
            ModelCard card = (kind != null ? kind : ModelKind.RESNET50).card(false, 0);
            return new LoadedModel(card.buildModel(), card);
        }
        return WeightsOption.load(weights, kind, false);
    }

    /** Fails fast, before any data is read, on weights that name a file or folder that is not there. */
    public static void checkExists(String weights) {
        if (weights.equals(NONE) || weights.equals(WeightsOption.IMAGENET)) return;
        if (!Files.exists(Path.of(weights))) {
            throw new UserInputException("--weights " + weights + ": no such file or folder");
        }
    }
}
