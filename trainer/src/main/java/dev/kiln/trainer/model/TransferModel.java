package dev.kiln.trainer.model;

import dev.kiln.nn.Activation;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Parameter;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.UserInputException;

import java.util.ArrayList;
import java.util.List;

/**
 * The Keras recipe's model: a pretrained backbone without its top, then the head
 * <pre>
 *   flatten (Flatten) or pool (GlobalAveragePooling2D)
 *   dense       Dense(features, 1024, relu)
 *   predictions Dense(1024, classes, softmax)
 * </pre>
 * Input (N, 3, 224, 224). The children's names follow model-io's {@code ModelCard} convention for fine-tuned models,
 * so state-dict keys are {@code backbone.<torchvision key>}, {@code dense.weight}, {@code predictions.bias}.
 *
 * <p>{@link #forward} returns class probabilities. Training uses {@link #logits}: the same network without the
 * final softmax, which the cross-entropy loss applies in its fused, numerically stable form (as Keras does when a
 * softmax output meets categorical cross-entropy).
 */
public final class TransferModel extends Layer {
    private final Architecture architecture;
    private final HeadType headType;
    private final List<String> classes;
    private final Layer backbone;
    private final Layer pooling;
    private final Dense dense;
    private final Dense predictions;

    public TransferModel(Architecture architecture, HeadType headType, List<String> classes) {
        if (classes.size() < 2) throw new UserInputException("need at least two classes, got " + classes);
        this.architecture = architecture;
        this.headType = headType;
        this.classes = List.copyOf(classes);
        this.backbone = add("backbone", architecture.newBackbone());
        this.pooling = add(headType.layerName(), headType.newPoolingLayer());
        int features = headType.features(architecture.channels(), architecture.spatial());
        this.dense = add("dense", new Dense(features, HeadType.HIDDEN_UNITS, Activation.RELU));
        this.predictions = add("predictions", new Dense(HeadType.HIDDEN_UNITS, classes.size(), Activation.SOFTMAX));
    }

    public Architecture architecture() {
        return architecture;
    }

    public HeadType headType() {
        return headType;
    }

    public List<String> classes() {
        return classes;
    }

    public Layer backbone() {
        return backbone;
    }

    /** The head's layers: pooling, dense, predictions. */
    public List<Layer> head() {
        return List.of(pooling, dense, predictions);
    }

    /** The head's weights (all trainable in both phases). */
    public List<Parameter> headWeights() {
        List<Parameter> out = new ArrayList<>();
        for (Layer l : head()) out.addAll(l.weights());
        return out;
    }

    /** Phase 1 of the recipe: the whole backbone frozen, the head trainable. */
    public void freezeBackbone() {
        setTrainable(true);
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
        return count(backbone.trainableWeights());
    }

    /** Class probabilities (N, classes). */
    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return predictions.forward(dense.forward(pooling.forward(backbone.forward(x, mode), mode), mode), mode);
    }

    /** Class logits (N, classes): the network without the final softmax. */
    public Tensor logits(Tensor x, Mode mode) {
        return headLogits(backbone.forward(x, mode), mode);
    }

    /** Logits from backbone features (N, C, H, W), for training on cached features. */
    public Tensor headLogits(Tensor features, Mode mode) {
        Tensor hidden = dense.forward(pooling.forward(features, mode), mode);
        return Ops.linear(hidden, predictions.weight().value(), predictions.bias().value());
    }

    /** Backbone features of a batch, as the frozen backbone computes them (inference mode). */
    public Tensor features(Tensor x) {
        return backbone.forward(x, Mode.EVAL);
    }
}
