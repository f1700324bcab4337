package dev.kiln.io.model;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.maps.KerasResNet50Names;
import dev.kiln.io.maps.NameMap;
import dev.kiln.io.maps.SqueezeNetNpyNames;
import dev.kiln.io.maps.TorchvisionNames;
import dev.kiln.models.ResNetVariant;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The families of foreign weight files Kiln imports, by their command-line name. Each carries its name map, its
 * architecture and variant, and the preprocessing its weights were trained with.
 */
public enum ModelKind {
    /** torchvision's ResNet50 (v1.5) state_dict, such as resnet50-0676ba61.pth. */
    RESNET50("resnet50", Architecture.RESNET50, ResNetVariant.TORCHVISION_V1_5, Preprocessing.TORCHVISION,
            "fc.weight"),
    /** Keras's ResNet50 (v1) HDF5 weights, with or without the top. */
    RESNET50_KERAS("resnet50-keras", Architecture.RESNET50, ResNetVariant.KERAS_V1, Preprocessing.CAFFE,
            "fc.weight"),
    /** SqueezeNet 1.1: torchvision's state_dict or the ONNX zoo's folder of .npy files. */
    SQUEEZENET1_1("squeezenet1_1", Architecture.SQUEEZENET1_1, null, Preprocessing.TORCHVISION,
            "classifier.1.weight");

    private final String cliName;
    private final Architecture architecture;
    private final ResNetVariant variant;
    private final Preprocessing preprocessing;
    private final String topWeight;

    ModelKind(String cliName, Architecture architecture, ResNetVariant variant, Preprocessing preprocessing,
              String topWeight) {
        this.cliName = cliName;
        this.architecture = architecture;
        this.variant = variant;
        this.preprocessing = preprocessing;
        this.topWeight = topWeight;
    }

    public String cliName() {
        return cliName;
    }

    public static ModelKind fromCliName(String name) {
        for (ModelKind k : values()) if (k.cliName.equals(name)) return k;
        throw new IllegalArgumentException("unknown model '" + name + "'; known: " + cliNames());
    }

    /** The kind whose architecture and variant a model card describes. */
    public static ModelKind of(ModelCard card) {
        for (ModelKind k : values()) {
            if (k.architecture == card.architecture() && k.variant == card.variant()) return k;
        }
        throw new IllegalArgumentException("no model kind for " + card.architecture() + " " + card.variant());
    }

    public static List<String> cliNames() {
        return Arrays.stream(values()).map(ModelKind::cliName).toList();
    }

    public NameMap names() {
        return switch (this) {
            case RESNET50 -> TorchvisionNames.resnet50();
            case RESNET50_KERAS -> new KerasResNet50Names();
            case SQUEEZENET1_1 -> new SqueezeNetNpyNames();
        };
    }

    public Architecture architecture() {
        return architecture;
    }

    public ResNetVariant variant() {
        return variant;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** The Kiln path of the top's weight matrix, whose first dimension is the number of classes. */
    public String topWeight() {
        return topWeight;
    }

    /** The card for weights of this kind; ImageNet's names when the top has 1000 classes. */
    public ModelCard card(boolean includeTop, int classes) {
        List<String> names = includeTop && classes == ImageNetClasses.COUNT ? ImageNetClasses.names() : List.of();
        return new ModelCard(architecture, variant, includeTop, includeTop ? classes : 0, null, preprocessing, names);
    }

    /** The kind a file's tensor names reveal, if they reveal one. */
    public static Optional<ModelKind> guess(NamedTensors tensors) {
        for (String key : tensors.names()) {
            String k = key.startsWith("module.") ? key.substring(7) : key;
            if (k.equals("layer1.0.conv1.weight")) return Optional.of(RESNET50);
            if (k.startsWith("conv1_conv/") || k.startsWith("conv2_block1_1_conv/")) return Optional.of(RESNET50_KERAS);
            if (k.startsWith("squeezenet0_conv") || k.equals("features.3.squeeze.weight")) return Optional.of(SQUEEZENET1_1);
        }
        return Optional.empty();
    }
}
