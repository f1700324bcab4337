package dev.kiln.io.maps;

/**
 * How strictly {@link WeightLoader} matches a file against a model.
 *
 * @param includeTop load the classifier top ({@code fc.*}, {@code classifier.*}); when false, the file's top
 *                   tensors are skipped (a model built without its top has no place for them)
 * @param partial    tolerate parameters without a value in the file and file tensors without a place in the model
 *                   (for transfer learning from a related network); a wrong shape still fails
 * @param under      null to load a whole model; or the path of the model inside the network the file describes,
 *                   such as "layer1.0" to load one block from a full ResNet50 file (tensors elsewhere are skipped)
 */
public record LoadOptions(boolean includeTop, boolean partial, String under) {
    /** Everything must match: every parameter gets a value, every tensor finds its parameter. */
    public static LoadOptions strict() {
        return new LoadOptions(true, false, null);
    }

    public LoadOptions withIncludeTop(boolean value) {
        return new LoadOptions(value, partial, under);
    }

    public LoadOptions withPartial(boolean value) {
        return new LoadOptions(includeTop, value, under);
    }

    public LoadOptions under(String path) {
        return new LoadOptions(includeTop, partial, path);
    }
}
