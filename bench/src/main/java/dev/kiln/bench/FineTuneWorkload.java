package dev.kiln.bench;

import dev.kiln.backend.Backend;
import dev.kiln.models.ResNet50;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;

/**
 * Transfer learning: a ResNet50 backbone without its top, (N, 2048, 7, 7), followed by the PyTorch script's head
 * Flatten → Dense(2048·7·7 → 1024, relu) → Dense(10), trained with Adam on 10 classes.
 *
 * <ul>
 *   <li>{@link #frozen}: the whole backbone is frozen. A frozen BatchNormalization runs on its moving
 *       statistics (Keras), as in the script's {@code backbone.eval()} with {@code requires_grad_(False)}. The
 *       backbone records no graph, so backward stops at the head. Adam 1e-3.</li>
 *   <li>{@link #unfrozenLayer4}: as above with layer4 trainable. The script's {@code l4BNeval} variant (its
 *       README figure) keeps every BatchNorm, layer4's included, in eval mode while layer4's weights, BN gamma and
 *       beta included, get gradients: that is Kiln's {@link Mode#EVAL} with layer4 trainable. Adam 1e-4.</li>
 * </ul>
 */
final class FineTuneWorkload extends TrainingStepWorkload {
    static final int HIDDEN = 1024, CLASSES = 10;

    private FineTuneWorkload(Sequential model, Backend backend, int batch, boolean unfreezeLayer4) {
        super(model, new Adam(model, unfreezeLayer4 ? 1e-4 : 1e-3), unfreezeLayer4 ? Mode.EVAL : Mode.TRAIN,
                Inputs.images(backend, batch, 0), Inputs.labels(backend, batch, CLASSES, 1),
                batch * (unfreezeLayer4 ? new ResNetFlops().unfrozenLayer4(HIDDEN, CLASSES)
                        : new ResNetFlops().frozen(HIDDEN, CLASSES)));
    }

    /** The backbone frozen (layer4 trainable when asked) and the script's head. */
    private static Sequential model(boolean unfreezeLayer4) {
        ResNet50 backbone = new ResNet50(ResNetVariant.TORCHVISION_V1_5, false, 0);
        backbone.setTrainable(false);
        if (unfreezeLayer4) backbone.layer("layer4").setTrainable(true);
        Sequential head = new Sequential(new Flatten(), new Dense(ResNetFlops.FEATURES * 7 * 7, HIDDEN,
                Activation.RELU), new Dense(HIDDEN, CLASSES));
        return new Sequential().append("backbone", backbone).append("head", head);
    }

    static FineTuneWorkload frozen(Backend backend, int batch) {
        return new FineTuneWorkload(model(false), backend, batch, false);
    }

    static FineTuneWorkload unfrozenLayer4(Backend backend, int batch) {
        return new FineTuneWorkload(model(true), backend, batch, true);
    }
}
