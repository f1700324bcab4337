package dev.kiln.optim;

import dev.kiln.nn.Layer;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates a model's trainable weights from their gradients.
 *
 * <p>The trainable weights are fetched from the model at every {@link #step()}, and per-parameter state is created
 * lazily the first time a parameter is updated. So unfreezing layers mid-run just works: weights that were never
 * trained get fresh state, and the others keep theirs (also a weight frozen and later unfrozen again, which
 * resumes its moments and step count). Parameters with no gradient are skipped, as in PyTorch. Create the optimizer
 * after moving the model to its backend: state lives where the parameter was when it was first updated.
 *
 * @param <S> the per-parameter state (Adam's moments, SGD's momentum buffer)
 */
public abstract class Optimizer<S extends AutoCloseable> {
    private final Layer model;
    private final Map<Parameter, S> state = new IdentityHashMap<>();
    private double learningRate;

    protected Optimizer(Layer model, double learningRate) {
        if (learningRate < 0) throw new IllegalArgumentException("learning rate must be >= 0, got " + learningRate);
        this.model = model;
        this.learningRate = learningRate;
    }

    public double learningRate() {
        return learningRate;
    }

    /** Changes the learning rate for later steps, keeping all state (phase 2 of fine-tuning). */
    public void setLearningRate(double learningRate) {
        this.learningRate = learningRate;
    }

    /** Applies one update to every trainable weight that has a gradient. */
    public final void step() {
        List<Parameter> params = model.trainableWeights();
        for (Parameter p : params) {
            Tensor grad = p.grad();
            if (grad == null || grad.isClosed()) continue;
            S s = state.computeIfAbsent(p, key -> MemoryScope.outside(() -> newState(key.value())));
            update(p.value(), grad, s);
        }
    }

    /** The state of {@code parameter}, or null if it was never updated. For tests and checkpoints. */
    public final S stateOf(Parameter parameter) {
        return state.get(parameter);
    }

    /**
     * Installs {@code newState} for {@code parameter}, closing any state it had: how a checkpoint restores an
     * optimizer so that a resumed run continues exactly where it stopped.
     */
    protected final void putState(Parameter parameter, S newState) throws Exception {
        S old = state.put(parameter, newState);
        if (old != null) old.close();
    }

    /** Number of parameters with state. */
    public final int stateSize() {
        return state.size();
    }

    /** Fresh state for a parameter (zeros), on the parameter's backend. */
    protected abstract S newState(Tensor param);

    /** Updates {@code param} in place. */
    protected abstract void update(Tensor param, Tensor grad, S state);

    /** Frees all state. */
    public void close() throws Exception {
        for (S s : state.values()) s.close();
        state.clear();
    }
}
