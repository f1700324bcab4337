package dev.kiln.trainer.model;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFiles;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.UserInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads ImageNet weights into a backbone. Any format model-io reads ({@link WeightFiles}) is accepted, with
 * torchvision's key names (a {@code .pth} state dict, safetensors) or the ONNX-zoo SqueezeNet 1.1 {@code .npy}
 * names ({@code squeezenet0_conv3_weight}), which are mapped here. The ImageNet top (fc, classifier) is ignored.
 */
public final class PretrainedWeights {
    /** The value of --weights that asks for the ImageNet download. */
    public static final String IMAGENET = "imagenet";
    /** The value of --weights that keeps the random initialization. */
    public static final String NONE = "none";

    private PretrainedWeights() {
    }

    /** What was loaded, for the summary. */
    public record Report(int loaded, List<String> ignored) {
    }

    /** Fails fast, before any data is read, on weights that cannot be loaded here. */
    public static void checkAvailable(String weights) {
        if (weights.equals(IMAGENET)) {
            throw new UserInputException("--weights imagenet needs the ImageNet download, which this build cannot "
                    + "fetch; pass a local file instead, e.g. --weights ../shared/data/squeezenet1_1 (SqueezeNet 1.1 "
                    + ".npy folder) or --weights resnet50-0676ba61.pth (torchvision)");
        }
        if (!weights.equals(NONE) && !Files.exists(Path.of(weights))) {
            throw new UserInputException("--weights " + weights + ": no such file or folder");
        }
    }

    public static Report load(Layer backbone, Architecture arch, String weights) {
        checkAvailable(weights);
        Path path = Path.of(weights);
        NamedTensors file;
        try {
            file = WeightFiles.read(path);
        } catch (IOException e) {
            throw new UserInputException("--weights " + weights + ": " + e.getMessage(), e);
        }
        return assign(backbone, torchvisionNames(file.asMap(), arch), path);
    }

    /** Assigns every backbone parameter from {@code byKey}; missing keys and shape mismatches are errors. */
    static Report assign(Layer backbone, Map<String, TensorData> byKey, Path source) {
        Map<String, Tensor> wanted = backbone.stateDict();
        List<String> missing = new ArrayList<>();
        for (String key : wanted.keySet()) if (!byKey.containsKey(key)) missing.add(key);
        if (!missing.isEmpty()) {
            throw new UserInputException(source + ": " + missing.size() + " of the backbone's " + wanted.size()
                    + " tensors are missing, first: " + missing.subList(0, Math.min(5, missing.size()))
                    + "; the file has " + byKey.keySet().stream().limit(5).toList() + "…");
        }
        List<String> ignored = new ArrayList<>();
        for (String key : byKey.keySet()) if (!wanted.containsKey(key)) ignored.add(key);
        for (String key : wanted.keySet()) {
            TensorData data = byKey.get(key);
            Parameter p = backbone.parameter(key);
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor t = Tensor.of(p.value().backend(), data.toFloats(), data.shape());
                p.assign(t);
            } catch (IllegalArgumentException e) {
                throw new UserInputException(source + ", tensor '" + key + "': " + e.getMessage(), e);
            }
        }
        return new Report(wanted.size(), ignored);
    }

    /** Renames a file's tensors to torchvision's keys. */
    static Map<String, TensorData> torchvisionNames(Map<String, TensorData> file, Architecture arch) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : file.entrySet()) {
            String key = e.getKey();
            if (key.endsWith("num_batches_tracked")) continue; // a BatchNorm counter the engine does not keep
            if (key.startsWith("module.")) key = key.substring("module.".length()); // saved from DataParallel
            if (arch == Architecture.SQUEEZENET1_1 && key.startsWith("squeezenet0_conv")) key = squeezeNetNpyKey(key);
            out.put(key, e.getValue());
        }
        return out;
    }

    /**
     * {@code squeezenet0_conv{N}_{weight|bias}} to torchvision's key: conv0 is features.0; convs 1–24 are the
     * squeeze, expand1x1 and expand3x3 of the eight fire modules (features 3, 4, 6, 7, 9, 10, 11, 12); conv25 is
     * classifier.1 (the ImageNet top).
     */
    static String squeezeNetNpyKey(String npyName) {
        String rest = npyName.substring("squeezenet0_conv".length());
        int underscore = rest.indexOf('_');
        if (underscore < 0) return npyName;
        int conv;
        try {
            conv = Integer.parseInt(rest.substring(0, underscore));
        } catch (NumberFormatException e) {
            return npyName;
        }
        String suffix = rest.substring(underscore + 1);
        if (conv == 0) return "features.0." + suffix;
        if (conv == 25) return "classifier.1." + suffix;
        int[] fireIndex = {3, 4, 6, 7, 9, 10, 11, 12};
        String[] part = {"squeeze", "expand1x1", "expand3x3"};
        int fire = (conv - 1) / 3;
        if (fire < 0 || fire >= fireIndex.length) return npyName;
        return "features." + fireIndex[fire] + "." + part[(conv - 1) % 3] + "." + suffix;
    }
}
