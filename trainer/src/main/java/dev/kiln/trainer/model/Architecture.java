package dev.kiln.trainer.model;

import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.nn.Layer;
import dev.kiln.trainer.UserInputException;

import java.util.Arrays;

/**
 * The pretrained backbones the recipe supports, without their ImageNet tops: the feature map each produces for a
 * 224×224 input, and the default layer from which fine-tuning unfreezes (the last block).
 */
public enum Architecture {
    RESNET50("resnet50", ResNet50.FEATURES, 7, "layer4.2"),
    SQUEEZENET1_1("squeezenet1_1", SqueezeNet11.FEATURES, 13, "features.12");

    private final String cliName;
    private final int channels;
    private final int spatial;
    private final String defaultUnfreezeFrom;

    Architecture(String cliName, int channels, int spatial, String defaultUnfreezeFrom) {
        this.cliName = cliName;
        this.channels = channels;
        this.spatial = spatial;
        this.defaultUnfreezeFrom = defaultUnfreezeFrom;
    }

    /** A new backbone (include_top = false) with freshly initialized weights, on the default backend. */
    public Layer newBackbone() {
        return switch (this) {
            // torchvision's layout: its .pth files are the ImageNet weights users have.
            case RESNET50 -> new ResNet50(ResNetVariant.TORCHVISION_V1_5, false, 0);
            case SQUEEZENET1_1 -> new SqueezeNet11(false, 0);
        };
    }

    public String cliName() {
        return cliName;
    }

    /** Channels of the backbone's output feature map. */
    public int channels() {
        return channels;
    }

    /** Height and width of the backbone's output for a 224×224 input. */
    public int spatial() {
        return spatial;
    }

    public String defaultUnfreezeFrom() {
        return defaultUnfreezeFrom;
    }

    public static Architecture fromCliName(String name) {
        for (Architecture a : values()) if (a.cliName.equals(name)) return a;
        throw new UserInputException("unknown model '" + name + "'; choose one of "
                + Arrays.stream(values()).map(Architecture::cliName).toList());
    }
}
