package dev.kiln.io.model;

import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.nn.Layer;

import java.util.Arrays;
import java.util.Locale;

/**
 * The networks Kiln can rebuild from a model card, by the name a card stores ("resnet50", "squeezenet1_1").
 * Each knows its feature map (the backbone's output without the top), which a fine-tuned head's first dense layer
 * depends on, the path prefix of its classifier top, and its last block (where fine-tuning unfreezes by default).
 */
public enum Architecture {
    RESNET50("resnet50", ResNet50.FEATURES, "fc.", "layer4.2"),
    SQUEEZENET1_1("squeezenet1_1", SqueezeNet11.FEATURES, "classifier.", "features.12");

    private final String cardName;
    private final int channels;
    private final String topPrefix;
    private final String lastBlock;

    Architecture(String cardName, int channels, String topPrefix, String lastBlock) {
        this.cardName = cardName;
        this.channels = channels;
        this.topPrefix = topPrefix;
        this.lastBlock = lastBlock;
    }

    public String cardName() {
        return cardName;
    }

    /** The path prefix of the classifier top's parameters: "fc." (ResNet50) or "classifier." (SqueezeNet). */
    public String topPrefix() {
        return topPrefix;
    }

    /** The path of the backbone's last block: "layer4.2" (ResNet50) or "features.12" (SqueezeNet's last fire module). */
    public String lastBlock() {
        return lastBlock;
    }

    public static Architecture fromCardName(String name) {
        for (Architecture a : values()) if (a.cardName.equals(name)) return a;
        throw new IllegalArgumentException("unknown architecture '" + name + "'; known: "
                + Arrays.stream(values()).map(Architecture::cardName).toList());
    }

    /** The network; {@code variant} only matters for ResNet50 (null there means torchvision's v1.5). */
    public Layer build(ResNetVariant variant, boolean includeTop, int classes) {
        return switch (this) {
            case RESNET50 -> new ResNet50(variant == null ? ResNetVariant.TORCHVISION_V1_5 : variant, includeTop, classes);
            case SQUEEZENET1_1 -> new SqueezeNet11(includeTop, classes);
        };
    }

    /** The backbone's output shape (C, H, W) for a square input of side {@code size}. */
    public int[] featureShape(int size) {
        int s = switch (this) {
            // 7×7/2 conv, 3×3/2 max pool (padding 1), then three stride-2 stages: each step is ⌊(s−1)/2⌋+1.
            case RESNET50 -> halve(halve(halve(halve(halve(size)))));
            // 3×3/2 conv without padding, then three 3×3/2 ceil-mode max pools.
            case SQUEEZENET1_1 -> ceilPool(ceilPool(ceilPool((size - 3) / 2 + 1)));
        };
        return new int[] {channels, s, s};
    }

    private static int halve(int s) {
        return (s - 1) / 2 + 1;
    }

    private static int ceilPool(int s) {
        return (s - 3 + 1) / 2 + 1; // ⌈(s − 3) / 2⌉ + 1
    }

    @Override
    public String toString() {
        return cardName.toLowerCase(Locale.ROOT);
    }
}
