package dev.kiln.nn;

import dev.kiln.backend.Backend;
import dev.kiln.ops.ErrorContext;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A building block of a model: it owns parameters and child layers, and maps an input tensor to an output.
 *
 * <p><b>Names.</b> Every layer has a path built from its parents' child names, such as {@code layer4.2.conv3}; a
 * parameter's path ({@code layer4.2.conv3.weight}) is its key in the state dict and in error messages.
 *
 * <p><b>Trainable</b>, with Keras semantics. {@link #setTrainable} sets the flag on this layer and every layer
 * below it; a later call on a descendant overrides it there (freeze the backbone, then unfreeze its last block).
 * A weight is trainable exactly when its own layer's flag is set. A frozen layer's weights never change: they
 * require no gradient, optimizers skip them, and a frozen BatchNormalization normalizes with its moving statistics
 * and never updates them, in every {@link Mode}.
 */
public abstract class Layer {
    private final Map<String, Layer> children = new LinkedHashMap<>();
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private String name = "";
    private Layer parent;
    private boolean trainable = true;

    // ------------------------------------------------------------------ forward

    /** Runs this layer; shape errors from inside name this layer's path. */
    public final Tensor forward(Tensor x, Mode mode) {
        return ErrorContext.inLayer(path(), () -> call(x, mode));
    }

    /** The layer's computation. Implementations call child layers through {@link #forward}. */
    protected abstract Tensor call(Tensor x, Mode mode);

    /**
     * Closes {@code consumed}, an intermediate activation made inside this layer's {@link #call} and just fed to the
     * op or child that returned {@code produced}, when no gradient can need it: {@code produced} has no
     * {@link Tensor#gradFn()}, so its consumer recorded no node that saved {@code consumed}, and {@code consumed}
     * needs no gradient itself, so no earlier node saved it as an output. A frozen backbone then holds one or two
     * activations at a time instead of all of them. The layer's input belongs to the caller and is never closed;
     * a view of {@code consumed} keeps the storage alive through its own reference. Precondition: {@code consumed}
     * has no other consumer still to run (a tensor that feeds two branches, like SqueezeNet's squeeze output, must
     * not be released after the first).
     */
    protected static void releaseIfUnsaved(Tensor consumed, Tensor input, Tensor produced) {
        if (consumed == input || consumed == produced || consumed.isClosed()) return;
        if (consumed.requiresGrad() || produced.gradFn() != null) return;
        consumed.close();
    }

    // ------------------------------------------------------------------ structure

    /** Registers {@code child} under {@code childName}; returns it, for fields such as {@code conv1 = add("conv1", ...)}. */
    protected final <L extends Layer> L add(String childName, L child) {
        if (childName.isEmpty() || childName.contains(".")) {
            throw new IllegalArgumentException("layer name '" + childName + "' must be non-empty and contain no '.'");
        }
        if (children.containsKey(childName) || parameters.containsKey(childName)) {
            throw new IllegalArgumentException("layer '" + path() + "' already has a child named '" + childName + "'");
        }
        Layer asLayer = child; // private fields are reachable through the declared type only
        if (asLayer.parent != null) {
            throw new IllegalArgumentException("layer '" + asLayer.path() + "' already belongs to another layer");
        }
        asLayer.parent = this;
        asLayer.name = childName;
        children.put(childName, asLayer);
        if (!trainable) asLayer.setTrainable(false); // a layer added under a frozen one is frozen too, as in Keras
        return child;
    }

    /** A learnable weight, created on the default backend outside any memory scope. */
    protected final Parameter addWeight(String weightName, Supplier<Tensor> init) {
        return addParameter(weightName, init, false);
    }

    /** A statistic: state the forward pass maintains but no optimizer touches. */
    protected final Parameter addStatistic(String statName, Supplier<Tensor> init) {
        return addParameter(statName, init, true);
    }

    private Parameter addParameter(String paramName, Supplier<Tensor> init, boolean statistic) {
        if (children.containsKey(paramName) || parameters.containsKey(paramName)) {
            throw new IllegalArgumentException("layer '" + path() + "' already has a member named '" + paramName + "'");
        }
        Parameter p = new Parameter(this, paramName, MemoryScope.outside(init), statistic);
        parameters.put(paramName, p);
        return p;
    }

    /** This layer's name inside its parent ("" for a root). */
    public final String name() {
        return name;
    }

    /** The dotted path from the root, such as "layer4.2.conv3" ("" for the root itself). */
    public final String path() {
        if (parent == null) return "";
        String up = parent.path();
        return up.isEmpty() ? name : up + "." + name;
    }

    /** Direct children, in registration order. */
    public final List<Layer> layers() {
        return List.copyOf(children.values());
    }

    /** The descendant at a path relative to this layer, such as "layer4.2". */
    public final Layer layer(String relativePath) {
        Layer at = this;
        for (String part : relativePath.split("\\.")) {
            Layer next = at.children.get(part);
            if (next == null) {
                throw new IllegalArgumentException("no layer '" + relativePath + "' under '" + describe()
                        + "'; children of '" + at.describe() + "': " + at.children.keySet());
            }
            at = next;
        }
        return at;
    }

    /** This layer and every descendant, parents before children. */
    public final List<Layer> descendants() {
        List<Layer> out = new ArrayList<>();
        out.add(this);
        for (Layer child : children.values()) out.addAll(child.descendants());
        return out;
    }

    /** Parameters owned by this layer itself (not its children). */
    public final List<Parameter> ownParameters() {
        return List.copyOf(parameters.values());
    }

    private String describe() {
        return path().isEmpty() ? getClass().getSimpleName() : path();
    }

    // ------------------------------------------------------------------ parameters

    /** Every learnable weight below this layer, trainable or frozen (no statistics). */
    public final List<Parameter> weights() {
        List<Parameter> out = new ArrayList<>();
        for (Layer l : descendants()) {
            for (Parameter p : l.parameters.values()) if (!p.isStatistic()) out.add(p);
        }
        return out;
    }

    /** The weights an optimizer may change now. Optimizers ask for these at every step. */
    public final List<Parameter> trainableWeights() {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : weights()) if (p.isTrainable()) out.add(p);
        return out;
    }

    /** Frozen weights and all statistics, as Keras's {@code non_trainable_weights}. */
    public final List<Parameter> nonTrainableWeights() {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : allParameters()) if (!p.isTrainable()) out.add(p);
        return out;
    }

    /** Weights and statistics, in state-dict order. */
    public final List<Parameter> allParameters() {
        List<Parameter> out = new ArrayList<>();
        for (Layer l : descendants()) out.addAll(l.parameters.values());
        return out;
    }

    /** Path to tensor for every weight and statistic, like PyTorch's state_dict (paths relative to this layer). */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        String prefix = path().isEmpty() ? "" : path() + ".";
        for (Parameter p : allParameters()) out.put(p.path().substring(prefix.length()), p.value());
        return Collections.unmodifiableMap(out);
    }

    /** The parameter at a path relative to this layer, such as "layer4.2.bn3.running_var". */
    public final Parameter parameter(String relativePath) {
        int dot = relativePath.lastIndexOf('.');
        Layer owner = dot < 0 ? this : layer(relativePath.substring(0, dot));
        Parameter p = owner.parameters.get(relativePath.substring(dot + 1));
        if (p == null) {
            throw new IllegalArgumentException("no parameter '" + relativePath + "'; '" + owner.describe()
                    + "' has " + owner.parameters.keySet());
        }
        return p;
    }

    /** Total element count of the given parameters. */
    public static long count(List<Parameter> params) {
        long n = 0;
        for (Parameter p : params) n += p.value().numel();
        return n;
    }

    // ------------------------------------------------------------------ trainable

    public final boolean isTrainable() {
        return trainable;
    }

    /** Sets the flag on this layer and all its descendants (Keras semantics; see the class comment). */
    public final void setTrainable(boolean value) {
        for (Layer l : descendants()) {
            l.trainable = value;
            for (Parameter p : l.parameters.values()) p.syncRequiresGrad();
        }
    }

    // ------------------------------------------------------------------ housekeeping

    /**
     * Drops the accumulated gradients of every weight below this layer, as PyTorch's {@code zero_grad()} does by
     * default ({@code set_to_none}): the next backward pass hands its gradients over without a fill and an add,
     * and their memory returns to the backend's cache in between.
     */
    public final void zeroGrad() {
        for (Parameter p : weights()) {
            Tensor g = p.grad();
            if (g != null) {
                g.close();
                p.value().setGrad(null);
            }
        }
    }

    /** Moves every parameter to {@code backend} in {@code dtype}; returns this layer. */
    public final Layer to(Backend backend, DType dtype) {
        for (Parameter p : allParameters()) p.moveTo(backend, dtype);
        return this;
    }

    /** The backend the parameters live on (the first parameter's), or null for a layer without any. */
    public final Backend backend() {
        List<Parameter> all = allParameters();
        return all.isEmpty() ? null : all.get(0).value().backend();
    }

    /** One line per layer with its parameter count and trainable flag, like Keras's {@code summary()}. */
    public final String summary() {
        StringBuilder sb = new StringBuilder();
        for (Layer l : descendants()) {
            long own = 0;
            for (Parameter p : l.parameters.values()) own += p.value().numel();
            sb.append(String.format("%-32s %-24s %12d%s%n", l.path().isEmpty() ? "(root)" : l.path(),
                    l.getClass().getSimpleName(), own, l.trainable ? "" : "  frozen"));
        }
        sb.append(String.format("weights: %d trainable, %d non-trainable (incl. statistics)%n",
                count(trainableWeights()), count(nonTrainableWeights())));
        return sb.toString();
    }

    /** Shape helper for subclasses. */
    protected static Shape shape(int... dims) {
        return Shape.of(dims);
    }
}
