package dev.kiln.io.maps;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.Shapes;
import dev.kiln.io.TensorData;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies the tensors of a weight file into a model's parameters, translating names with a {@link NameMap}.
 *
 * <p>The whole file is checked before any parameter is written, so a load that fails leaves the model as it was.
 * Problems are reported with the file key, the model path and, for a wrong shape, both shapes.
 */
public final class WeightLoader {
    private WeightLoader() {
    }

    /** One file tensor on its way into a parameter, after layout conversion. */
    private record Assignment(String key, Parameter parameter, TensorData data) {
    }

    /**
     * Loads {@code tensors} (read from {@code file}, which is used in messages only) into {@code model}.
     *
     * @throws WeightMismatchException for a wrong shape, two keys aimed at one parameter, and (unless
     *                                 {@code options.partial()}) a missing or unexpected tensor
     */
    public static LoadReport load(Layer model, NamedTensors tensors, NameMap map, LoadOptions options, Path file)
            throws WeightMismatchException {
        Map<String, Parameter> parameters = parametersByPath(model, options.includeTop() ? null : map);
        String prefix = options.under() == null ? "" : options.under() + ".";
        Map<String, Assignment> assignments = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        List<String> skipped = new ArrayList<>();

        for (Map.Entry<String, TensorData> entry : tensors.asMap().entrySet()) {
            String key = entry.getKey();
            if (map.ignores(key)) {
                skipped.add(key);
                continue;
            }
            Target target = map.target(key);
            if (target == null) {
                unexpected.add(key);
                continue;
            }
            if (!options.includeTop() && map.isTop(target.path())) {
                skipped.add(key);
                continue;
            }
            if (!target.path().startsWith(prefix)) {
                skipped.add(key);
                continue;
            }
            String path = target.path().substring(prefix.length());
            Parameter parameter = parameters.get(path);
            if (parameter == null) {
                unexpected.add(key);
                continue;
            }
            TensorData data = convert(file, key, path, target.layout(), entry.getValue());
            checkShape(file, key, path, entry.getValue(), data, parameter);
            Assignment previous = assignments.put(path, new Assignment(key, parameter, data));
            if (previous != null) {
                throw new WeightMismatchException(file, key, "maps to '" + path + "', which '" + previous.key()
                        + "' already fills");
            }
        }

        List<String> missing = new ArrayList<>();
        for (String path : parameters.keySet()) if (!assignments.containsKey(path)) missing.add(path);
        if (!options.partial()) {
            if (!missing.isEmpty()) {
                throw new WeightMismatchException(file, null, "no value for model parameter '" + missing.get(0)
                        + "'" + more(missing) + " (the file is read as " + map.description() + ")");
            }
            if (!unexpected.isEmpty()) {
                throw new WeightMismatchException(file, unexpected.get(0), "has no place in the model"
                        + more(unexpected) + " (the file is read as " + map.description() + ")");
            }
        }

        for (Assignment a : assignments.values()) assign(a);
        return new LoadReport(new ArrayList<>(assignments.keySet()), missing, unexpected, skipped);
    }

    /** The model's parameters by path relative to the model; without the top's when {@code topOf} is given. */
    private static Map<String, Parameter> parametersByPath(Layer model, NameMap topOf) {
        String root = model.path().isEmpty() ? "" : model.path() + ".";
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (Parameter p : model.allParameters()) {
            String path = p.path().substring(root.length());
            if (topOf == null || !topOf.isTop(path)) out.put(path, p);
        }
        return out;
    }

    private static TensorData convert(Path file, String key, String path, Layout layout, TensorData stored)
            throws WeightMismatchException {
        if (!stored.type().isFloatingPoint()) {
            throw new WeightMismatchException(file, key, "holds " + stored.type() + " values; parameter '" + path
                    + "' needs floating point");
        }
        try {
            return layout.apply(stored);
        } catch (IllegalArgumentException e) {
            throw new WeightMismatchException(file, key, "shape " + Shapes.toString(stored.shape())
                    + " cannot be converted for '" + path + "': " + e.getMessage());
        }
    }

    private static void checkShape(Path file, String key, String path, TensorData stored, TensorData converted,
                                   Parameter parameter) throws WeightMismatchException {
        int[] expected = parameter.value().shape().toArray();
        if (Arrays.equals(expected, converted.shape())) return;
        String asStored = stored == converted ? ""
                : " (" + Shapes.toString(stored.shape()) + " as stored)";
        throw new WeightMismatchException(file, key, "shape " + Shapes.toString(converted.shape()) + asStored
                + " does not match model parameter '" + path + "' of shape " + Shapes.toString(expected));
    }

    private static void assign(Assignment a) {
        try (MemoryScope ignored = MemoryScope.open()) {
            a.parameter().assign(Tensor.of(a.data().toFloats(), a.data().shape()));
        }
    }

    private static String more(List<String> items) {
        return items.size() == 1 ? "" : " and " + (items.size() - 1) + " more";
    }
}
