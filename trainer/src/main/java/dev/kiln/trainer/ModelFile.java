package dev.kiln.trainer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
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
 * A trained model as one safetensors file: the whole state dict (F32) and string metadata that says how to rebuild
 * and feed it: {@code kiln.architecture}, {@code kiln.head}, {@code kiln.classes} (JSON list, index = class),
 * {@code kiln.preprocessing} (JSON), {@code kiln.output} ("logits": apply softmax for probabilities).
 */
public final class ModelFile {
    public static final String FORMAT = "kiln-model/1";
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
        meta.put("format", "pt"); // the convention of safetensors files holding a PyTorch-style state dict
        meta.put("kiln.format", FORMAT);
        meta.put("kiln.architecture", model.architecture().cliName());
        meta.put("kiln.head", model.headType().cliName());
        meta.put("kiln.classes", JSON.writeValueAsString(model.classes()));
        meta.put("kiln.preprocessing", JSON.writeValueAsString(prep.describe()));
        meta.put("kiln.output", "logits");
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
        if (!FORMAT.equals(meta.get("kiln.format"))) {
            throw new UserInputException(file + ": not a model written by kiln finetune (metadata kiln.format is "
                    + meta.get("kiln.format") + ", expected " + FORMAT + ")");
        }
        List<String> classes;
        try {
            classes = JSON.readValue(meta.get("kiln.classes"), new TypeReference<List<String>>() { });
        } catch (JsonProcessingException e) {
            throw new UserInputException(file + ": metadata kiln.classes is not a JSON list: " + e.getOriginalMessage());
        }
        TransferModel model = new TransferModel(Architecture.fromCliName(meta.get("kiln.architecture")),
                HeadType.fromCliName(meta.get("kiln.head")), classes);
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
