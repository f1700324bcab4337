package dev.kiln.io.model;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFiles;
import dev.kiln.io.WeightFormatException;
import dev.kiln.io.maps.LoadOptions;
import dev.kiln.io.maps.NameMap;
import dev.kiln.io.maps.Target;
import dev.kiln.io.maps.WeightLoader;
import dev.kiln.nn.Layer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Turns any supported weight file into a Kiln model with its card: a Kiln model file as it is (or its backbone
 * alone), or a foreign file (torchvision .pth, Keras .h5, a folder of .npy, a plain safetensors state_dict) through
 * its {@link ModelKind}'s name map.
 */
public final class WeightImport {
    private WeightImport() {
    }

    /**
     * @param kind       the family of the weights, or null to tell it from the tensor names
     * @param includeTop whether to keep the classifier top, or null to keep it exactly when the file has one
     */
    public static LoadedModel load(Path file, ModelKind kind, Boolean includeTop) throws IOException {
        NamedTensors tensors = WeightFiles.read(file);
        if (KilnModelFile.isKilnModel(tensors)) return loadKiln(file, tensors, kind, includeTop);
        ModelKind k = kind != null ? kind : ModelKind.guess(tensors).orElseThrow(() -> new WeightFormatException(file,
                "cannot tell which model these " + tensors.size() + " tensors belong to; pass --model, one of "
                        + ModelKind.cliNames()));
        NameMap names = k.names();
        String topKey = keyOf(tensors, names, k.topWeight());
        boolean withTop = includeTop != null ? includeTop : topKey != null;
        if (withTop && topKey == null) {
            throw new WeightFormatException(file, "has no classifier top (no tensor maps to '" + k.topWeight()
                    + "'); use --no-include-top");
        }
        int classes = withTop ? classesOf(file, topKey, names.target(topKey), tensors.get(topKey)) : 0;
        ModelCard card = k.card(withTop, classes);
        Layer model = card.buildModel();
        WeightLoader.load(model, tensors, names, LoadOptions.strict().withIncludeTop(withTop), file);
        return new LoadedModel(model, card);
    }

    /** A Kiln file as it is; or, with {@code includeTop} false, its backbone alone (for a new head). */
    private static LoadedModel loadKiln(Path file, NamedTensors tensors, ModelKind kind, Boolean includeTop)
            throws IOException {
        ModelCard card = KilnModelFile.readCard(file, tensors);
        if (kind != null && (kind.architecture() != card.architecture() || kind.variant() != card.variant())) {
            throw new WeightFormatException(file, "is a Kiln " + card.architecture()
                    + (card.variant() == null ? "" : " (" + card.variant().name().toLowerCase(Locale.ROOT) + ")")
                    + " file, not " + kind.cliName());
        }
        if (Boolean.FALSE.equals(includeTop)) return KilnModelFile.loadBackbone(file, tensors);
        if (Boolean.TRUE.equals(includeTop) && !card.includeTop()) {
            throw new WeightFormatException(file, "is a Kiln file without its top; --include-top cannot change that");
        }
        return KilnModelFile.load(file, tensors);
    }

    /** The number of classes: the first dimension of the top's weight in Kiln's layout. */
    private static int classesOf(Path file, String key, Target target, TensorData weight) throws WeightFormatException {
        try {
            return target.layout().apply(weight).shape()[0];
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            throw new WeightFormatException(file, key, "is not a classifier weight matrix: " + e.getMessage());
        }
    }

    /** The file key that maps to {@code topPath}, or null. */
    private static String keyOf(NamedTensors tensors, NameMap names, String topPath) {
        for (Map.Entry<String, TensorData> e : tensors.asMap().entrySet()) {
            if (names.ignores(e.getKey())) continue;
            Target t = names.target(e.getKey());
            if (t != null && t.path().equals(topPath)) return e.getKey();
        }
        return null;
    }
}
