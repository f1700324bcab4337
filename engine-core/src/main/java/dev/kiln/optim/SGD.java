package dev.kiln.optim;

import dev.kiln.nn.Layer;
import dev.kiln.tensor.Tensor;

/**
 * Stochastic gradient descent with optional momentum, as {@code torch.optim.SGD} (no dampening, no Nesterov):
 * {@code g += wd * p; buf = g on the first step, else momentum * buf + g; p -= lr * buf}.
 */
public final class SGD extends Optimizer<SGD.Velocity> {
    private final double momentum;
    private final double weightDecay;

    public SGD(Layer model, double lr) {
        this(model, lr, 0.0, 0.0);
    }

    public SGD(Layer model, double lr, double momentum, double weightDecay) {
        super(model, lr);
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /** The momentum buffer of one parameter (absent without momentum). */
    public static final class Velocity implements AutoCloseable {
        public final Tensor buffer;
        boolean started;

        Velocity(Tensor buffer) {
            this.buffer = buffer;
        }

        @Override
        public void close() {
            if (buffer != null) buffer.close();
        }
    }

    @Override
    protected Velocity newState(Tensor param) {
        return new Velocity(momentum == 0 ? null : Tensor.zeros(param.backend(), param.dtype(), param.shape()));
    }

    @Override
    protected void update(Tensor param, Tensor grad, Velocity s) {
        param.backend().sgdStep(param, grad, s.buffer, learningRate(), momentum, weightDecay, !s.started);
        s.started = true;
    }
}
