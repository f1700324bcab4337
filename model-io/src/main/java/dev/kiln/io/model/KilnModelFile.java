package dev.kiln.io.model;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFormatException;
import dev.kiln.io.maps.LoadOptions;
import dev.kiln.io.maps.NameMap;
import dev.kiln.io.maps.Target;
import dev.kiln.io.maps.WeightLoader;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.nn.Layer;
import dev.kiln.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Kiln's own model file: safetensors holding the model's state dict (float32, Kiln paths) with a {@link ModelCard}
 * in {@code __metadata__}, so that {@link #load} rebuilds the model from the file alone. Other tools read it as
 * ordinary safetensors.
 */
public final class KilnModelFile {
    private KilnModelFile() {
    }

    /** Writes every weight and statistic of {@code model} with {@code card}, atomically. */
    public static void save(Path file, Layer model, ModelCard card) throws IOException {
        save(file, model, card, Map.of());
    }

    /**
     * Same, with {@code notes} beside the card in the metadata: facts for people, such as the epoch a fine-tuned
     * model comes from. They may not reuse the card's keys, and loading ignores them.
     */
    public static void save(Path file, Layer model, ModelCard card, Map<String, String> notes) throws IOException {
        checkStructure(model, card);
        Map<String, String> metadata = new LinkedHashMap<>(card.toMetadata());
        for (Map.Entry<String, String> note : notes.entrySet()) {
            if (metadata.putIfAbsent(note.getKey(), note.getValue()) != null) {
                throw new IllegalArgumentException("note '" + note.getKey() + "' would overwrite the card's field");
            }
        }
        NamedTensors tensors = new NamedTensors();
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            tensors.put(e.getKey(), TensorData.ofFloats(e.getValue().shape().toArray(), e.getValue().toFloatArray()));
        }
        SafeTensors.write(file, tensors, metadata);
    }

    /** The card alone, without building the model. */
    public static ModelCard readCard(Path file) throws IOException {
        return readCard(file, SafeTensors.read(file));
    }

    /** The card of a file already read ({@code file} names it in messages). */
    public static ModelCard readCard(Path file, NamedTensors tensors) throws WeightFormatException {
        try {
            return ModelCard.fromMetadata(tensors.metadata());
        } catch (IllegalArgumentException e) {
            throw new WeightFormatException(file, e.getMessage());
        }
    }

    /** True when {@code metadata} (of a safetensors file) carries a Kiln card. */
    public static boolean isKilnModel(NamedTensors file) {
        return ModelCard.isCard(file.metadata());
    }

    /** Builds the model the card describes and fills it from the file; every parameter must be there. */
    public static LoadedModel load(Path file) throws IOException {
        return load(file, SafeTensors.read(file));
    }

    /** Same as {@link #load(Path)} for a file already read. */
    public static LoadedModel load(Path file, NamedTensors tensors) throws IOException {
        ModelCard card = readCard(file, tensors);
        Layer model = card.buildModel();
        WeightLoader.load(model, tensors, pathsOf(card), LoadOptions.strict(), file);
        return new LoadedModel(model, card);
    }

    /**
     * The backbone alone, for a new head: the file's model without its classifier top (a pretrained model) or
     * without its head (a fine-tuned one, whose backbone is the child {@code backbone}).
     */
    public static LoadedModel loadBackbone(Path file, NamedTensors tensors) throws IOException {
        ModelCard card = readCard(file, tensors);
        ModelCard backboneCard = card.withoutTop();
        Layer model = backboneCard.buildModel();
        LoadOptions options = LoadOptions.strict().withIncludeTop(false);
        if (card.head() != null) options = options.under("backbone");
        WeightLoader.load(model, tensors, pathsOf(card), options, file);
        return new LoadedModel(model, backboneCard);
    }

    /** Saving a model that the card would not rebuild would only fail at load time; fail now instead. */
    /** Cards whose structure was already built and compared, with the structure that passed. */
    private static final Map<ModelCard, String> CHECKED = new ConcurrentHashMap<>();

    private static void checkStructure(Layer model, ModelCard card) {
        // Building the card's model allocates and initializes every weight (400 MB for ResNet50's flatten head), and
        // the trainer saves at every improved epoch: remember which structure each card was checked against.
        String structure = structureOf(model.stateDict());
        if (structure.equals(CHECKED.get(card))) return;
        Layer reference = card.buildModel();
        try {
            compare(reference.stateDict(), model.stateDict());
        } finally {
            for (Tensor t : reference.stateDict().values()) t.close(); // off-heap memory the GC does not see
        }
        if (CHECKED.size() >= 16) CHECKED.clear();
        CHECKED.put(card, structure);
    }

    /** Every parameter path with its shape, in order: what {@link #compare} checks. */
    private static String structureOf(Map<String, Tensor> stateDict) {
        StringBuilder sb = new StringBuilder();
        stateDict.forEach((path, t) -> sb.append(path).append(t.shape()).append(';'));
        return sb.toString();
    }

    private static void compare(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor t = actual.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("the card describes parameter '" + e.getKey()
                        + "', which the model lacks; see ModelCard for the layer names a card implies");
            }
            if (!t.shape().equals(e.getValue().shape())) {
                throw new IllegalArgumentException("parameter '" + e.getKey() + "' has shape " + t.shape()
                        + ", the card implies " + e.getValue().shape());
            }
        }
        for (String key : actual.keySet()) {
            if (!expected.containsKey(key)) {
                throw new IllegalArgumentException("the model has parameter '" + key + "', which the card does not describe");
            }
        }
    }

    /** A Kiln file's keys are the model's paths; the top is the architecture's. */
    private static NameMap pathsOf(ModelCard card) {
        String topPrefix = card.architecture().topPrefix();
        return new NameMap() {
            @Override
            public Target target(String key) {
                return Target.asIs(key);
            }

            @Override
            public boolean isTop(String path) {
                return path.startsWith(topPrefix);
            }

            @Override
            public String description() {
                return "Kiln model file";
            }
        };
    }
}
