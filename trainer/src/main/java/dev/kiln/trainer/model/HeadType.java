package dev.kiln.trainer.model;

import dev.kiln.nn.Activation;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.GlobalAveragePooling2D;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Sequential;
import dev.kiln.trainer.UserInputException;

import java.util.Arrays;

/**
 * The classification head of the Keras recipe: {@code Flatten} (or {@code GlobalAveragePooling2D}), then
 * {@code Dense(1024, relu)}, then {@code Dense(classes)}.
 *
 * <p>The last layer outputs logits: the recipe's softmax is fused into the cross-entropy loss for numerical
 * stability (Keras's {@code from_logits=True}), and prediction applies it explicitly.
 */
public enum HeadType {
    FLATTEN_DENSE("flatten-dense"),
    GAP_DENSE("gap-dense");

    public static final int HIDDEN_UNITS = 1024;

    private final String cliName;

    HeadType(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The head for a backbone producing (N, channels, spatial, spatial). */
    public Sequential newHead(int channels, int spatial, int classes) {
        Layer reduce = this == FLATTEN_DENSE ? new Flatten() : new GlobalAveragePooling2D();
        int features = this == FLATTEN_DENSE ? channels * spatial * spatial : channels;
        return new Sequential()
                .append(this == FLATTEN_DENSE ? "flatten" : "pool", reduce)
                .append("fc1", new Dense(features, HIDDEN_UNITS, Activation.RELU))
                .append("predictions", new Dense(HIDDEN_UNITS, classes));
    }

    public static HeadType fromCliName(String name) {
        for (HeadType h : values()) if (h.cliName.equals(name)) return h;
        throw new UserInputException("unknown head '" + name + "'; choose one of "
                + Arrays.stream(values()).map(HeadType::cliName).toList());
    }
}
