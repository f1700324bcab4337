package dev.kiln.nn;

import dev.kiln.backend.Backend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

/**
 * A named tensor owned by a layer: either a weight that training may change, or a statistic (BatchNorm's moving
 * mean and variance) that only the forward pass updates. A weight is trainable exactly when its layer is; that is
 * the only switch, and it also decides whether the tensor requires a gradient.
 */
public final class Parameter {
    private final Layer owner;
    private final String name;
    private final boolean statistic;
    private Tensor value;

    Parameter(Layer owner, String name, Tensor value, boolean statistic) {
        this.owner = owner;
        this.name = name;
        this.statistic = statistic;
        this.value = value;
        syncRequiresGrad();
    }

    /** The name inside its layer, such as "weight" or "running_mean". */
    public String name() {
        return name;
    }

    /** The full path, such as "layer4.2.conv3.weight": the key in a state dict. */
    public String path() {
        String layerPath = owner.path();
        return layerPath.isEmpty() ? name : layerPath + "." + name;
    }

    public Layer owner() {
        return owner;
    }

    public Tensor value() {
        return value;
    }

    /** The accumulated gradient, or null if none was computed yet. */
    public Tensor grad() {
        return value.grad();
    }

    /** True for statistics, which are state but never learned. */
    public boolean isStatistic() {
        return statistic;
    }

    /** True when an optimizer may change this parameter now. */
    public boolean isTrainable() {
        return !statistic && owner.isTrainable();
    }

    /** Overwrites the values, keeping this parameter's backend and dtype; the shapes must match. */
    public void assign(Tensor source) {
        if (!source.shape().equals(value.shape())) {
            throw new IllegalArgumentException("parameter '" + path() + "': expected shape " + value.shape()
                    + ", got " + source.shape());
        }
        value.copyFrom(source);
    }

    /** Moves this parameter to another backend and dtype (the gradient is dropped). */
    void moveTo(Backend backend, DType dtype) {
        if (value.backend() == backend && value.dtype() == dtype) return;
        Tensor old = value;
        value = MemoryScope.outside(() -> old.to(backend, dtype));
        if (old.grad() != null) old.grad().close();
        old.close();
        syncRequiresGrad();
    }

    void syncRequiresGrad() {
        value.setRequiresGrad(isTrainable());
    }

    @Override
    public String toString() {
        return path() + " " + value.shape() + (isStatistic() ? " statistic" : isTrainable() ? "" : " frozen");
    }
}
