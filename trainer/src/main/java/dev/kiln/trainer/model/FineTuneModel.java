package dev.kiln.trainer.model;

import dev.kiln.io.model.HeadSpec;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelCard;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.UserInputException;

import java.nio.file.Path;
import java.util.List;

/**
 * The Keras recipe's model, in model-io's convention for fine-tuned models ({@link ModelCard#buildModel(Layer)}):
 * a {@code Sequential} with the children
 * <pre>
 *   backbone    the pretrained network without its top
 *   flatten     Flatten (head flatten-dense), or
 *   pool        GlobalAveragePooling2D (head gap-dense)
 *   dense       Dense(features, 1024, relu)
 *   predictions Dense(1024, classes, softmax)
 * </pre>
 * and the card that describes it, so that {@code KilnModelFile.save(file, network(), card())} writes a file that
 * {@code kiln predict} and {@code kiln evaluate} use with no other flags.
 *
 * <p>The network's forward pass returns class probabilities. Training and evaluation use {@link #logits}: the same
 * network without the final softmax, which the loss applies in its fused, numerically stable form (what Keras does
 * when a softmax output meets categorical cross-entropy). Computing logits explicitly, rather than recovering them
 * from the softmax's autograd node, also works inside {@code Autograd.noGrad()}, where no node is recorded.
 */
public final class FineTuneModel {
    /** Width of the head's hidden dense layer. */
    public static final int HIDDEN_UNITS = 1024;

    private final Layer network;
    private final ModelCard card;
    private final Layer backbone;
    private final Layer pooling;
    private final Layer dense;
    private final Dense predictions;

    private FineTuneModel(Layer network, ModelCard card) {
        this.network = network;
        this.card = card;
        this.backbone = network.layer("backbone");
        this.pooling = network.layer(card.head().poolingLayerName());
        this.dense = network.layer("dense");
        this.predictions = (Dense) network.layer("predictions");
    }

    /**
     * A new head of type {@code headType} ("flatten-dense" or "gap-dense", initialized by the engine's seeded
     * initializers) on {@code backbone}, a model loaded without its top.
     */
    public static FineTuneModel withNewHead(LoadedModel backbone, String headType, List<String> classes) {
        if (classes.size() < 2) throw new UserInputException("need at least two classes, got " + classes);
        HeadSpec head;
        try {
            head = new HeadSpec(HeadSpec.poolingOf(headType), HIDDEN_UNITS, classes.size());
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--head: " + e.getMessage());
        }
        ModelCard card = backbone.card().withHead(head, classes);
        return new FineTuneModel(card.buildModel(backbone.model()), card);
    }

    /** A fine-tuned model read back from {@code file} (as {@code kiln finetune} wrote it). */
    public static FineTuneModel of(LoadedModel loaded, Path file) {
        if (loaded.card().head() == null) {
            throw new UserInputException(file + ": not a fine-tuned model (its card has no head); expected a "
                    + "model.safetensors written by kiln finetune");
        }
        return new FineTuneModel(loaded.model(), loaded.card());
    }

    /** The whole network, as saved and as {@code kiln predict} runs it. */
    public Layer network() {
        return network;
    }

    /** Architecture, variant, head, preprocessing and class names. */
    public ModelCard card() {
        return card;
    }

    public List<String> classes() {
        return card.classNames();
    }

    public Layer backbone() {
        return backbone;
    }

    /** The (C, H, W) feature map the backbone makes of one input image. */
    public int[] featureShape() {
        return card.architecture().featureShape(card.preprocessing().crop());
    }

    /** Phase 1 of the recipe: the whole backbone frozen, the head trainable. */
    public void freezeBackbone() {
        network.setTrainable(true);
        backbone.setTrainable(false);
    }

    /**
     * Phase 2: unfreezes the backbone from {@code layerPath} (relative to the backbone, such as "layer4.2") to its
     * end: that layer and every layer after it in forward order. Returns how many backbone weights are trainable.
     */
    public long unfreezeFrom(String layerPath) {
        Layer from;
        try {
            from = backbone.layer(layerPath);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--unfreeze-from " + layerPath + ": " + e.getMessage());
        }
        // In pre-order, `from` comes after its ancestors and everything that runs before it, and is followed by
        // its own subtree and then the later blocks: exactly the layers to unfreeze.
        List<Layer> order = backbone.descendants();
        for (Layer l : order.subList(order.indexOf(from), order.size())) l.setTrainable(true);
        return Layer.count(backbone.trainableWeights());
    }

    /** Class logits (N, classes) of images (N, 3, H, W): the network without the final softmax. */
    public Tensor logits(Tensor images, Mode mode) {
        return headLogits(backbone.forward(images, mode), mode);
    }

    /** Logits from backbone features (N, C, H, W), for training on cached features. */
    public Tensor headLogits(Tensor features, Mode mode) {
        Tensor hidden = dense.forward(pooling.forward(features, mode), mode);
        return Ops.linear(hidden, predictions.weight().value(), predictions.bias().value());
    }

    /** Backbone features of a batch, as the frozen backbone computes them (inference mode). */
    public Tensor features(Tensor images) {
        return backbone.forward(images, Mode.EVAL);
    }
}
