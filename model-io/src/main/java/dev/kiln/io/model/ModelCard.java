package dev.kiln.io.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.GlobalAveragePooling2D;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Sequential;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything needed to rebuild a model from its weights and use it: the architecture and its variant, whether the
 * backbone keeps its own classifier top, the head of a fine-tuned model, the preprocessing the weights expect, and
 * the class names. A {@link KilnModelFile} stores it in the safetensors {@code __metadata__}.
 *
 * <h2>Three kinds of model</h2>
 * <ul>
 *   <li><b>Pretrained with its top</b> ({@code includeTop}, no head): the architecture's own layer is the model, its
 *       output is class <em>logits</em> (ResNet50's {@code fc}, SqueezeNet's {@code classifier}).</li>
 *   <li><b>Feature extractor</b> (no top, no head): the output is the backbone's feature map; it cannot classify.</li>
 *   <li><b>Fine-tuned</b> (no top, a {@link HeadSpec}): the convention shared with the trainer is a
 *       {@link Sequential} with exactly these children, so that parameter paths in the file are
 *       {@code backbone.layer1.0.conv1.weight}, {@code dense.weight}, {@code predictions.bias}:
 *       <pre>
 *   new Sequential()
 *       .append("backbone", architecture built without its top)     // ResNet50(variant, false, 0), SqueezeNet11(false, 0)
 *       .append("flatten", new Flatten())                         // head "flatten-dense"; or
 *       .append("pool", new GlobalAveragePooling2D())             // head "gap-dense"
 *       .append("dense", new Dense(features, units, RELU))
 *       .append("predictions", new Dense(units, classes, SOFTMAX))
 *       </pre>
 *       {@code features} is C·H·W of the backbone's output at the card's crop size after flatten (ResNet50 at 224:
 *       2048·7·7), or C after pooling. The output is class <em>probabilities</em>. {@link #buildModel()} builds exactly
 *       this (or, with {@link #buildModel(Layer)}, around a pretrained backbone), and the trainer uses it.</li>
 * </ul>
 *
 * @param variant    ResNet50's variant (torchvision v1.5 or Keras v1); null for other architectures
 * @param includeTop whether the backbone keeps its pretrained classifier
 * @param classes    number of classes the model outputs (0 for a feature extractor)
 * @param head       the fine-tuned head, or null
 * @param classNames one name per class in output order, or empty when unknown (labels are then "class N")
 */
public record ModelCard(Architecture architecture, ResNetVariant variant, boolean includeTop, int classes,
                        HeadSpec head, Preprocessing preprocessing, List<String> classNames) {
    /** Metadata key and value that mark a Kiln model file. */
    public static final String FORMAT_KEY = "format";
    public static final String FORMAT = "kiln-model";
    public static final String VERSION_KEY = "format_version";
    public static final String VERSION = "1";

    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelCard {
        classNames = List.copyOf(classNames);
        if (head != null && includeTop) {
            throw new IllegalArgumentException("a model with a fine-tuned head has a backbone without its top");
        }
        if (head != null && head.classes() != classes) {
            throw new IllegalArgumentException("head has " + head.classes() + " classes, card says " + classes);
        }
        if (!includeTop && head == null && classes != 0) {
            throw new IllegalArgumentException("a feature extractor (no top, no head) has 0 classes, not " + classes);
        }
        if (!classNames.isEmpty() && classNames.size() != classes) {
            throw new IllegalArgumentException(classNames.size() + " class names for " + classes + " classes");
        }
        if ((variant != null) != (architecture == Architecture.RESNET50)) {
            throw new IllegalArgumentException("a variant is given for ResNet50 only, got " + variant + " for "
                    + architecture);
        }
    }

    // ------------------------------------------------------------------ common cards

    /** torchvision's ResNet50 (v1.5) with its 1000-class ImageNet top. */
    public static ModelCard torchvisionResNet50(List<String> classNames) {
        return new ModelCard(Architecture.RESNET50, ResNetVariant.TORCHVISION_V1_5, true, 1000, null,
                Preprocessing.TORCHVISION, classNames);
    }

    /** Keras's ResNet50 (v1), with its ImageNet top or as a feature extractor. */
    public static ModelCard kerasResNet50(boolean includeTop, List<String> classNames) {
        return new ModelCard(Architecture.RESNET50, ResNetVariant.KERAS_V1, includeTop, includeTop ? 1000 : 0, null,
                Preprocessing.CAFFE, includeTop ? classNames : List.of());
    }

    /** A card for this backbone with {@code head} on top instead of the pretrained classifier. */
    public ModelCard withHead(HeadSpec newHead, List<String> newClassNames) {
        return new ModelCard(architecture, variant, false, newHead.classes(), newHead, preprocessing, newClassNames);
    }

    /** This backbone without any top or head. */
    public ModelCard withoutTop() {
        return new ModelCard(architecture, variant, false, 0, null, preprocessing, List.of());
    }

    // ------------------------------------------------------------------ use

    /** True when the model's output is probabilities (a fine-tuned head ends in softmax), false for logits. */
    public boolean outputsProbabilities() {
        return head != null;
    }

    /** True when the model outputs class scores at all. */
    public boolean classifies() {
        return classes > 0;
    }

    /** The label of class {@code index}: its name, or "class N" when the card has none. */
    public String label(int index) {
        return classNames.isEmpty() ? "class " + index : classNames.get(index);
    }

    /** A freshly initialized model of this card's structure (see the class comment for the fine-tuned layout). */
    public Layer buildModel() {
        if (head == null) return architecture.build(variant, includeTop, classes);
        return buildModel(architecture.build(variant, false, 0));
    }

    /**
     * The fine-tuned structure (see the class comment) around a backbone that already exists, such as one with
     * pretrained weights; the head is freshly initialized. The backbone must be this architecture without its top.
     */
    public Layer buildModel(Layer backbone) {
        if (head == null) throw new IllegalStateException("the card has no head to build around a backbone");
        int[] fmap = architecture.featureShape(preprocessing.crop());
        boolean flatten = head.pooling().equals(HeadSpec.FLATTEN);
        int features = flatten ? fmap[0] * fmap[1] * fmap[2] : fmap[0];
        return new Sequential()
                .append("backbone", backbone)
                .append(head.poolingLayerName(), flatten ? new Flatten() : new GlobalAveragePooling2D())
                .append("dense", new Dense(features, head.units(), Activation.RELU))
                .append("predictions", new Dense(head.units(), head.classes(), Activation.SOFTMAX));
    }

    // ------------------------------------------------------------------ metadata

    /** The card as safetensors metadata (string to string; structured values as JSON). */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(FORMAT_KEY, FORMAT);
        m.put(VERSION_KEY, VERSION);
        m.put("architecture", architecture.cardName());
        if (variant != null) m.put("variant", variant.name().toLowerCase(Locale.ROOT));
        m.put("include_top", Boolean.toString(includeTop));
        m.put("classes", Integer.toString(classes));
        if (head != null) {
            ObjectNode h = JSON.createObjectNode();
            h.put("type", head.type());
            h.put("units", head.units());
            h.put("classes", head.classes());
            m.put("head", h.toString());
        }
        m.put("outputs", outputsProbabilities() ? "probabilities" : classifies() ? "logits" : "features");
        ObjectNode p = JSON.createObjectNode();
        p.put("name", preprocessing.name());
        p.put("channels", preprocessing.bgr() ? "BGR" : "RGB");
        p.put("scale", preprocessing.scale());
        ArrayNode mean = p.putArray("mean");
        ArrayNode std = p.putArray("std");
        for (double v : preprocessing.mean()) mean.add(v);
        for (double v : preprocessing.std()) std.add(v);
        p.put("resize", preprocessing.resize());
        p.put("crop", preprocessing.crop());
        m.put("preprocessing", p.toString());
        ArrayNode names = JSON.createArrayNode();
        classNames.forEach(names::add);
        m.put("class_names", names.toString());
        return m;
    }

    /** True when the metadata carries a Kiln model card. */
    public static boolean isCard(Map<String, String> metadata) {
        return FORMAT.equals(metadata.get(FORMAT_KEY));
    }

    /** Reads a card back; IllegalArgumentException names the field that is missing or malformed. */
    public static ModelCard fromMetadata(Map<String, String> m) {
        if (!isCard(m)) throw new IllegalArgumentException("no Kiln model card (metadata 'format' is not '" + FORMAT + "')");
        if (!VERSION.equals(m.get(VERSION_KEY))) {
            throw new IllegalArgumentException("model card format_version '" + m.get(VERSION_KEY)
                    + "' is not supported (this Kiln reads " + VERSION + ")");
        }
        Architecture architecture = Architecture.fromCardName(required(m, "architecture"));
        ResNetVariant variant = m.containsKey("variant") ? variantOf(m.get("variant")) : null;
        boolean includeTop = Boolean.parseBoolean(required(m, "include_top"));
        int classes = integer(m, "classes");
        HeadSpec head = null;
        if (m.containsKey("head")) {
            JsonNode h = json(m, "head");
            head = new HeadSpec(HeadSpec.poolingOf(h.path("type").asText()), h.path("units").asInt(),
                    h.path("classes").asInt());
        }
        JsonNode p = json(m, "preprocessing");
        Preprocessing pre = new Preprocessing(p.path("name").asText(), p.path("channels").asText().equals("BGR"),
                p.path("scale").asDouble(), doubles(p.path("mean")), doubles(p.path("std")),
                p.path("resize").asInt(), p.path("crop").asInt());
        List<String> names = new ArrayList<>();
        if (m.containsKey("class_names")) json(m, "class_names").forEach(n -> names.add(n.asText()));
        return new ModelCard(architecture, variant, includeTop, classes, head, pre, names);
    }

    private static ResNetVariant variantOf(String name) {
        try {
            return ResNetVariant.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("card field 'variant': unknown '" + name + "'; known: torchvision_v1_5, keras_v1");
        }
    }

    private static String required(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) throw new IllegalArgumentException("model card lacks field '" + key + "'");
        return v;
    }

    private static int integer(Map<String, String> m, String key) {
        try {
            return Integer.parseInt(required(m, key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("card field '" + key + "' is not an integer: " + m.get(key));
        }
    }

    private static JsonNode json(Map<String, String> m, String key) {
        try {
            return JSON.readTree(required(m, key));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("card field '" + key + "' is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asDouble();
        return out;
    }
}
