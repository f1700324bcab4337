package dev.kiln.io.model;

import java.util.List;

/**
 * The classifier a fine-tuned model puts on a backbone built without its top. See {@link ModelCard} for the layer
 * names this describes.
 *
 * @param pooling  how the backbone's (C, H, W) feature map becomes a vector: "flatten" (C·H·W values, channel-major)
 *                 or "gap" (global average pooling, C values)
 * @param units    width of the hidden dense layer (ReLU)
 * @param classes  outputs of the final dense layer (softmax)
 */
public record HeadSpec(String pooling, int units, int classes) {
    public static final String FLATTEN = "flatten";
    public static final String GAP = "gap";
    /** The names a card (and the command line's {@code --head}) gives the two heads. */
    public static final List<String> TYPES = List.of(FLATTEN + "-dense", GAP + "-dense");

    public HeadSpec {
        if (!pooling.equals(FLATTEN) && !pooling.equals(GAP)) {
            throw new IllegalArgumentException("head pooling must be 'flatten' or 'gap', got '" + pooling + "'");
        }
        if (units <= 0 || classes <= 0) {
            throw new IllegalArgumentException("head needs positive units and classes, got " + units + " and " + classes);
        }
    }

    /** "flatten-dense" or "gap-dense", the name a card stores. */
    public String type() {
        return pooling + "-dense";
    }

    /** The name of the pooling layer in the model: "flatten" or "pool". */
    public String poolingLayerName() {
        return pooling.equals(FLATTEN) ? "flatten" : "pool";
    }

    /** The pooling of a head type: "flatten-dense" → "flatten", "gap-dense" → "gap". */
    public static String poolingOf(String type) {
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("unknown head '" + type + "'; known: " + TYPES);
        }
        return type.substring(0, type.length() - "-dense".length());
    }
}
