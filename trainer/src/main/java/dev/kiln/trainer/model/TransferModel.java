package dev.kiln.trainer.model;

import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.trainer.UserInputException;
import dev.kiln.tensor.Tensor;

import java.util.List;

/**
 * A pretrained backbone with a new head: input (N, 3, 224, 224), output class logits (N, classes). State-dict keys
 * are {@code backbone.<torchvision key>} and {@code head.<layer>.<weight>}.
 */
public final class TransferModel extends Layer {
    private final Architecture architecture;
    private final HeadType headType;
    private final List<String> classes;
    private final Layer backbone;
    private final Sequential head;

    public TransferModel(Architecture architecture, HeadType headType, List<String> classes) {
        this.architecture = architecture;
        this.headType = headType;
        this.classes = List.copyOf(classes);
        this.backbone = add("backbone", architecture.newBackbone());
        this.head = add("head", headType.newHead(architecture.channels(), architecture.spatial(), classes.size()));
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

    public Sequential head() {
        return head;
    }

    /** Phase 1 of the recipe: the whole backbone frozen, the head trainable. */
    public void freezeBackbone() {
        backbone.setTrainable(false);
        head.setTrainable(true);
    }

    /**
     * Phase 2: unfreezes the backbone from {@code layerPath} (relative to the backbone, such as "layer4.2") to its
     * end: that layer and every layer after it in forward order. Returns how many weights became trainable.
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
        return count(trainableWeights()) - count(head.trainableWeights());
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return head.forward(backbone.forward(x, mode), mode);
    }

    /** Backbone features of a batch, as the frozen backbone computes them (inference mode). */
    public Tensor features(Tensor x) {
        return backbone.forward(x, Mode.EVAL);
    }

    public static void requireClasses(List<String> classes) {
        if (classes.size() < 2) throw new UserInputException("need at least two classes, got " + classes);
    }
}
