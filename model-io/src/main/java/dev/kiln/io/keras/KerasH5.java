package dev.kiln.io.keras;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.Shapes;
import dev.kiln.io.TensorData;
import dev.kiln.io.WeightFormatException;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keras HDF5 weight files (model.save_weights, the keras.applications downloads, and the
 * {@code model_weights} group of a full model.save file), read with the pure-Java jHDF library.
 * The layout: attribute {@code layer_names} lists the layers in order; each layer group's attribute
 * {@code weight_names} lists its weights ("conv1_conv/kernel:0"), stored as datasets at
 * {@code <layer>/<weight name>}. Tensors are named by weight name, in layer order, layouts unchanged
 * (see {@link KerasLayouts} to convert). Float datasets come out as F32 (half precision widened), F64
 * stays F64, 32/64-bit integers as I32/I64.
 */
public final class KerasH5 {
    /** The first 8 bytes of every HDF5 file (without a user block). */
    public static final byte[] SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    /** Filtered (compressed) datasets may expand; deflate cannot by more than about 1032 times. */
    private static final long MAX_EXPANSION = 1032;

    private KerasH5() {
    }

    public static boolean looksLike(byte[] head) {
        return head.length >= SIGNATURE.length && Arrays.equals(Arrays.copyOf(head, SIGNATURE.length), SIGNATURE);
    }

    public static NamedTensors read(Path file) throws IOException {
        long fileSize = Files.size(file);
        String key = null;
        try (HdfFile hdf = new HdfFile(file)) {
            checkNotTruncated(file, hdf, fileSize);
            Group root = weightsRoot(file, hdf);
            NamedTensors out = new NamedTensors();
            for (String attribute : new String[] {"keras_version", "backend"}) {
                String value = stringAttribute(root, hdf, attribute);
                if (value != null) {
                    out.putMetadata(attribute, value);
                }
            }
            for (String layer : strings(file, root, "layer_names")) {
                Node node = root.getChild(layer);
                if (!(node instanceof Group layerGroup)) {
                    throw new WeightFormatException(file, "layer '" + layer + "' listed in layer_names has no group");
                }
                for (String weight : strings(file, layerGroup, "weight_names")) {
                    key = weight;
                    if (out.contains(weight)) {
                        throw new WeightFormatException(file, weight, "weight name occurs twice");
                    }
                    out.put(weight, readDataset(file, weight, layerGroup.getByPath(weight), fileSize));
                }
                key = null;
            }
            return out;
        } catch (WeightFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            // jHDF reports corrupted structures with unchecked exceptions; name the file and weight.
            throw new WeightFormatException(file, key, "not a readable HDF5 file: " + e, e);
        }
    }

    /** jHDF reads lazily and may not notice a cut tail; the superblock records where the file should end. */
    private static void checkNotTruncated(Path file, HdfFile hdf, long fileSize) throws WeightFormatException {
        long end = hdf.getUserBlockSize() + hdf.getHdfBackingStorage().getSuperblock().getEndOfFileAddress();
        if (end > fileSize) {
            throw new WeightFormatException(file, "truncated: the HDF5 superblock says the file ends at byte "
                    + end + ", but it has " + fileSize);
        }
    }

    /** Weight files keep layer_names at the root; full-model files keep them in group model_weights. */
    private static Group weightsRoot(Path file, HdfFile hdf) throws WeightFormatException {
        if (hdf.getAttribute("layer_names") != null) {
            return hdf;
        }
        if (hdf.getChildren().get("model_weights") instanceof Group g && g.getAttribute("layer_names") != null) {
            return g;
        }
        throw new WeightFormatException(file, "HDF5 file without a 'layer_names' attribute: not Keras weights");
    }

    private static TensorData readDataset(Path file, String key, Node node, long fileSize)
            throws WeightFormatException {
        if (!(node instanceof Dataset ds)) {
            throw new WeightFormatException(file, key, "is not a dataset");
        }
        long limit = ds.getFilters().isEmpty() ? fileSize : fileSize * MAX_EXPANSION;
        long[] dims = Arrays.stream(ds.getDimensions()).asLongStream().toArray();
        int[] shape = Shapes.toIntShapeOrNull(dims);
        long bytes = ds.getSizeInBytes();
        if (shape == null || bytes < 0 || bytes > Math.min(limit, Integer.MAX_VALUE - 8)) {
            throw new WeightFormatException(file, key, "dataset of " + bytes + " bytes, shape "
                    + Arrays.toString(dims) + ", cannot come from a file of " + fileSize + " bytes");
        }
        Object flat = ds.isScalar() ? scalarAsArray(ds.getData()) : ds.getDataFlat();
        if (flat instanceof float[] f) {
            return TensorData.ofFloats(shape, f);
        } else if (flat instanceof double[] d) {
            return TensorData.ofDoubles(shape, d);
        } else if (flat instanceof int[] i) {
            return TensorData.ofInts(shape, i);
        } else if (flat instanceof long[] l) {
            return TensorData.ofLongs(shape, l);
        }
        throw new WeightFormatException(file, key, "unsupported dataset type " + ds.getJavaType().getSimpleName());
    }

    private static Object scalarAsArray(Object boxed) {
        if (boxed instanceof Float f) {
            return new float[] {f};
        } else if (boxed instanceof Double d) {
            return new double[] {d};
        } else if (boxed instanceof Integer i) {
            return new int[] {i};
        } else if (boxed instanceof Long l) {
            return new long[] {l};
        }
        return boxed;
    }

    /** A string-list attribute; Keras writes an empty float array for layers without weights. */
    private static List<String> strings(Path file, Node node, String name) throws WeightFormatException {
        Attribute a = node.getAttribute(name);
        if (a == null) {
            throw new WeightFormatException(file, "group '" + node.getPath() + "' lacks attribute '" + name + "'");
        }
        List<String> out = new ArrayList<>();
        if (a.getSize() == 0) {
            return out;
        }
        Object data = a.getData();
        if (data instanceof String s) {
            out.add(s);
        } else if (data instanceof String[] arr) {
            out.addAll(Arrays.asList(arr));
        } else if (!(data != null && data.getClass().isArray() && Array.getLength(data) == 0)) {
            throw new WeightFormatException(file, "attribute '" + name + "' of '" + node.getPath()
                    + "' is not a list of strings");
        }
        return out;
    }

    /** An optional string attribute, looked up on the weights group then the file root; null when absent. */
    private static String stringAttribute(Group group, HdfFile hdf, String name) {
        Attribute a = group.getAttribute(name);
        if (a == null) {
            a = hdf.getAttribute(name);
        }
        return a != null && a.getData() instanceof String s ? s : null;
    }
}
