package dev.kiln.trainer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.data.ImagePreprocessing;
import dev.kiln.trainer.model.Architecture;
import dev.kiln.trainer.model.HeadType;
import dev.kiln.trainer.model.TransferModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A fine-tuned model as one safetensors file: the whole state dict (F32; keys {@code backbone.*}, {@code dense.*},
 * {@code predictions.*}) and, in {@code __metadata__}, the fields of model-io's {@code ModelCard} for a fine-tuned
 * model ({@code format=kiln-model}, {@code format_version=1}, {@code architecture}, {@code variant},
 * {@code include_top=false}, {@code classes}, {@code head} JSON, {@code outputs=probabilities},
 * {@code preprocessing} JSON, {@code class_names} JSON), so that model-io's {@code KilnModelFile} and
 * {@code kiln predict} read it too. Extra keys ({@code kiln.epoch}, {@code kiln.val_accuracy}) say where it came from.
 */
public final class ModelFile {
    public static final String FORMAT = "kiln-model";
    public static final String VERSION = "1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelFile() {
    }

    /** A loaded model and the metadata it came with. */
    public record Loaded(TransferModel model, Map<String, String> metadata) {
    }

    public static void save(Path file, TransferModel model, ImagePreprocessing prep, Map<String, String> extra)
            throws IOException {
        NamedTensors tensors = new NamedTensors();
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            tensors.put(e.getKey(), TensorDataConversion.toData(e.getValue()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", VERSION);
        meta.put("architecture", model.architecture().cliName());
        if (model.architecture() == Architecture.RESNET50) meta.put("variant", "torchvision_v1_5");
        meta.put("include_top", "false");
        meta.put("classes", Integer.toString(model.classes().size()));
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("type", model.headType().cliName());
        head.put("units", HeadType.HIDDEN_UNITS);
        head.put("classes", model.classes().size());
        meta.put("head", JSON.writeValueAsString(head));
        meta.put("outputs", "probabilities");
        meta.put("preprocessing", JSON.writeValueAsString(prep.describe()));
        meta.put("class_names", JSON.writeValueAsString(model.classes()));
        meta.putAll(extra);
        Files.createDirectories(file.toAbsolutePath().getParent());
        SafeTensors.write(file, tensors, meta); // writes a temporary file and renames it over the target
    }

    /** Rebuilds the model a {@link #save}d file describes (on the default backend) and loads its weights. */
    public static Loaded load(Path file) {
        NamedTensors tensors;
        try {
            tensors = SafeTensors.read(file);
        } catch (IOException e) {
            throw new UserInputException("--weights " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> meta = tensors.metadata();
        if (!FORMAT.equals(meta.get("format")) || meta.get("head") == null) {
            throw new UserInputException(file + ": not a fine-tuned Kiln model (metadata format is "
                    + meta.get("format") + (meta.get("head") == null ? ", no head" : "") + "); expected one written by kiln finetune");
        }
        List<String> classes;
        HeadType head;
        try {
            classes = JSON.readValue(meta.get("class_names"), new TypeReference<List<String>>() { });
            JsonNode h = JSON.readTree(meta.get("head"));
            head = HeadType.fromCliName(h.path("type").asText());
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new UserInputException(file + ": unreadable model metadata: " + e.getMessage());
        }
        TransferModel model = new TransferModel(Architecture.fromCliName(meta.get("architecture")), head, classes);
        loadState(model, tensors, file, "");
        return new Loaded(model, meta);
    }

    /** Assigns every parameter of {@code model} from {@code prefix + key}; names the file and key on mismatch. */
    static void loadState(TransferModel model, NamedTensors tensors, Path file, String prefix) {
        for (Parameter p : model.allParameters()) {
            String key = prefix + p.path();
            if (!tensors.contains(key)) throw new UserInputException(file + ": no tensor '" + key + "'");
            TensorData d = tensors.get(key);
            try (MemoryScope scope = MemoryScope.open()) {
                p.assign(TensorDataConversion.toTensor(d, p.value().backend()));
            } catch (IllegalArgumentException e) {
                throw new UserInputException(file + ": " + e.getMessage(), e);
            }
        }
    }
}
