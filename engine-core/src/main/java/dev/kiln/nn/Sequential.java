package dev.kiln.nn;

import dev.kiln.tensor.Tensor;

/**
 * Layers applied one after another. Children are named by position ("0", "1", …) as in PyTorch, unless named
 * explicitly with {@link #add(String, Layer)}.
 */
public class Sequential extends Layer {

    public Sequential(Layer... layers) {
        for (Layer l : layers) append(l);
    }

    /** Appends a layer named by its position. */
    public final Sequential append(Layer layer) {
        add(Integer.toString(layers().size()), layer);
        return this;
    }

    /** Appends a layer under an explicit name. */
    public final Sequential append(String name, Layer layer) {
        add(name, layer);
        return this;
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        Tensor out = x;
        for (Layer l : layers()) {
            Tensor next = l.forward(out, mode);
            releaseIfUnsaved(out, x, next);
            out = next;
        }
        return out;
    }
}
