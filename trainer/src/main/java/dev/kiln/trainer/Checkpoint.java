package dev.kiln.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.io.AtomicFiles;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.maps.LoadOptions;
import dev.kiln.io.maps.TorchvisionNames;
import dev.kiln.io.maps.WeightLoader;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.nn.Parameter;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.model.FineTuneModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything needed to continue a run exactly: the model's weights and statistics ({@code model.<key>}), Adam's
 * moments ({@code adam.m.<key>}, {@code adam.v.<key>}) and, in the metadata entry {@code kiln.checkpoint}, Adam's
 * step counts, the history, the seed and what the run was (architecture, head, classes). Data order and
 * augmentation are functions of (seed, epoch, sample), so the seed and the epoch count are all the RNG state.
 *
 * <p>Written atomically ({@link AtomicFiles}): killing the process mid-write leaves the previous checkpoint intact.
 */
public final class Checkpoint {
    public static final String FILE_NAME = "checkpoint.safetensors";
    static final String META_KEY = "kiln.checkpoint";
    /** The model's tensors are stored under {@code model.}, Adam's under {@code adam.m.} and {@code adam.v.}. */
    private static final String MODEL_PREFIX = "model";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final NamedTensors tensors;
    private final JsonNode info;
    private final Path file;

    private Checkpoint(Path file, NamedTensors tensors, JsonNode info) {
        this.file = file;
        this.tensors = tensors;
        this.info = info;
    }

    /** Identifies a run, to refuse resuming it into another model. */
    public record RunIdentity(String architecture, String head, List<String> classes, long seed) {
        public static RunIdentity of(FineTuneModel model, long seed) {
            String variant = model.card().variant() == null ? ""
                    : " (" + model.card().variant().name().toLowerCase(Locale.ROOT) + ")";
            return new RunIdentity(model.card().architecture().cardName() + variant, model.card().head().type(),
                    model.classes(), seed);
        }
    }

    public static void save(Path file, FineTuneModel model, Adam adam, History history, RunIdentity run,
                            AtomicFiles.BeforeCommit beforeCommit) throws IOException {
        NamedTensors tensors = new NamedTensors();
        for (Map.Entry<String, Tensor> e : model.network().stateDict().entrySet()) {
            tensors.put(MODEL_PREFIX + "." + e.getKey(), TensorDataConversion.toData(e.getValue()));
        }
        ObjectNode steps = JSON.createObjectNode();
        for (Parameter p : model.network().weights()) {
            Adam.Moments m = adam.stateOf(p);
            if (m == null) continue;
            tensors.put("adam.m." + p.path(), TensorDataConversion.toData(m.m));
            tensors.put("adam.v." + p.path(), TensorDataConversion.toData(m.v));
            steps.put(p.path(), m.step());
        }
        ObjectNode info = JSON.createObjectNode();
        info.put("version", 1);
        info.put("architecture", run.architecture());
        info.put("head", run.head());
        info.set("classes", JSON.valueToTree(run.classes()));
        info.put("seed", run.seed());
        info.put("epochs_done", history.size());
        info.put("phase", history.size() == 0 ? 1 : history.records().get(history.size() - 1).phase());
        info.put("next_epoch", history.size() + 1);
        // The only random state: every shuffle and augmentation is drawn from (seed, epoch, sample).
        info.put("rng", "SplittableRandom seeded by (seed, epoch, sample index); head init by seed");
        info.put("learning_rate", adam.learningRate());
        info.set("adam_steps", steps);
        info.set("history", history.toJson());
        String infoJson = JSON.writeValueAsString(info);
        SafeTensors.write(file, tensors, Map.of(META_KEY, infoJson), beforeCommit);
    }

    public static Checkpoint load(Path file) {
        try {
            NamedTensors t = SafeTensors.read(file);
            String info = t.metadata().get(META_KEY);
            if (info == null) throw new UserInputException(file + ": not a kiln checkpoint (no " + META_KEY + " metadata)");
            return new Checkpoint(file, t, JSON.readTree(info));
        } catch (IOException e) {
            throw new UserInputException("cannot resume from " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    public RunIdentity identity() {
        List<String> classes = new ArrayList<>();
        info.get("classes").forEach(c -> classes.add(c.asText()));
        return new RunIdentity(info.get("architecture").asText(), info.get("head").asText(), classes,
                info.get("seed").asLong());
    }

    public History history() {
        return History.fromJson(info.get("history"));
    }

    public int epochsDone() {
        return info.get("epochs_done").asInt();
    }

    /**
     * Overwrites the model's weights and statistics with the checkpoint's ({@code model.<path>}, Kiln's paths, which
     * are torchvision's keys); every one must be there with its shape.
     */
    public void restoreModel(FineTuneModel model) throws IOException {
        WeightLoader.load(model.network(), tensors, new TorchvisionNames("Kiln checkpoint"),
                LoadOptions.strict().under(MODEL_PREFIX), file);
    }

    /** Gives Adam back its moments and step counts, for every parameter it had state for. */
    public void restoreOptimizer(FineTuneModel model, Adam adam) {
        for (Iterator<Map.Entry<String, JsonNode>> it = info.get("adam_steps").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Parameter p = model.network().parameter(e.getKey());
            TensorData m = tensors.get("adam.m." + e.getKey());
            TensorData v = tensors.get("adam.v." + e.getKey());
            try (MemoryScope scope = MemoryScope.open()) {
                adam.restoreState(p, TensorDataConversion.toTensor(m, p.value().backend()),
                        TensorDataConversion.toTensor(v, p.value().backend()), e.getValue().asLong());
            }
        }
    }
}
