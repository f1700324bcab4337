package dev.kiln.models;

import dev.kiln.nn.ActivationLayer;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Layer;
import dev.kiln.nn.MaxPooling2D;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/**
 * SqueezeNet 1.1 (torchvision's {@code squeezenet1_1}): a 3×3/2 conv stem and eight {@link Fire} modules with
 * ceil-mode max pools between them; the classifier is dropout, a 1×1 conv to the classes, ReLU and a global average
 * pool. Paths follow torchvision (features.0, features.3.squeeze, classifier.1). Without the top, the output is the
 * (N, 512, 13, 13) feature map for 224×224 input.
 */
public final class SqueezeNet11 extends Layer {
    public static final int FEATURES = 512;

    private final Sequential features;
    private final Sequential classifier;

    public SqueezeNet11(boolean includeTop, int classes) {
        features = add("features", new Sequential(
                new Conv2D(3, 64, 3, 2, 0, true),
                ActivationLayer.relu(),
                pool(),
                new Fire(64, 16, 64, 64),
                new Fire(128, 16, 64, 64),
                pool(),
                new Fire(128, 32, 128, 128),
                new Fire(256, 32, 128, 128),
                pool(),
                new Fire(256, 48, 192, 192),
                new Fire(384, 48, 192, 192),
                new Fire(384, 64, 256, 256),
                new Fire(512, 64, 256, 256)));
        classifier = includeTop ? add("classifier", new Sequential(
                new Dropout(0.5),
                new Conv2D(FEATURES, classes, 1, 1, 0, true),
                ActivationLayer.relu())) : null;
    }

    private static MaxPooling2D pool() {
        return new MaxPooling2D(3, 2, 0, true);
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        Tensor out = features.forward(x, mode);
        if (classifier == null) return out;
        return Ops.globalAvgPool(classifier.forward(out, mode));
    }
}
