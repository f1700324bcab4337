package dev.kiln.trainer.model;

import dev.kiln.nn.Flatten;
import dev.kiln.nn.GlobalAveragePooling2D;
import dev.kiln.nn.Layer;
import dev.kiln.trainer.UserInputException;

import java.util.Arrays;

/**
 * How the head of the Keras recipe turns the backbone's (C, H, W) feature map into a vector: {@code Flatten}
 * (C·H·W values) or {@code GlobalAveragePooling2D} (C values). Then come {@code Dense(1024, relu)} and
 * {@code Dense(classes, softmax)} (see {@link TransferModel}).
 */
public enum HeadType {
    FLATTEN_DENSE("flatten-dense", "flatten"),
    GAP_DENSE("gap-dense", "pool");

    public static final int HIDDEN_UNITS = 1024;

    private final String cliName;
    private final String layerName;

    HeadType(String cliName, String layerName) {
        this.cliName = cliName;
        this.layerName = layerName;
    }

    public String cliName() {
        return cliName;
    }

    /** The pooling layer's name in the model: "flatten" or "pool" (model-io's ModelCard convention). */
    public String layerName() {
        return layerName;
    }

    public Layer newPoolingLayer() {
        return this == FLATTEN_DENSE ? new Flatten() : new GlobalAveragePooling2D();
    }

    /** Length of the vector the pooling layer makes from a (channels, spatial, spatial) feature map. */
    public int features(int channels, int spatial) {
        return this == FLATTEN_DENSE ? channels * spatial * spatial : channels;
    }

    public static HeadType fromCliName(String name) {
        for (HeadType h : values()) if (h.cliName.equals(name)) return h;
        throw new UserInputException("unknown head '" + name + "'; choose one of "
                + Arrays.stream(values()).map(HeadType::cliName).toList());
    }
}
