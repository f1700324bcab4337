package dev.kiln.optim;

import dev.kiln.backend.AdamConfig;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;

/**
 * Adam exactly as {@code torch.optim.Adam}: defaults lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0 added to
 * the gradient (coupled L2). Each parameter counts its own steps for bias correction, so a parameter first
 * trained after an unfreeze starts at t = 1. Note that Keras's Adam puts eps elsewhere and defaults it to 1e-7.
 */
public class Adam extends Optimizer<Adam.Moments> {
    public static final double DEFAULT_LR = 1e-3;
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPS = 1e-8;

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;

    public Adam(Layer model) {
        this(model, DEFAULT_LR);
    }

    public Adam(Layer model, double lr) {
        this(model, lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, 0.0);
    }

    public Adam(Layer model, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(model, lr, beta1, beta2, eps, weightDecay, false);
    }

    protected Adam(Layer model, double lr, double beta1, double beta2, double eps, double weightDecay,
                   boolean decoupled) {
        super(model, lr);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    /** First and second moment estimates and the step count of one parameter. */
    public static final class Moments implements AutoCloseable {
        public final Tensor m;
        public final Tensor v;
        long step;

        Moments(Tensor m, Tensor v) {
            this.m = m;
            this.v = v;
        }

        public long step() {
            return step;
        }

        @Override
        public void close() {
            m.close();
            v.close();
        }
    }

    /**
     * Restores the state of {@code parameter} from a checkpoint: copies of {@code m} and {@code v} on the
     * parameter's backend, and the step count used for bias correction.
     */
    public void restoreState(Parameter parameter, Tensor m, Tensor v, long step) {
        Tensor p = parameter.value();
        if (!m.shape().equals(p.shape()) || !v.shape().equals(p.shape())) {
            throw new IllegalArgumentException("Adam state of '" + parameter.path() + "': expected shape " + p.shape()
                    + ", got m " + m.shape() + " and v " + v.shape());
        }
        if (step < 0) throw new IllegalArgumentException("Adam state of '" + parameter.path() + "': step " + step + " < 0");
        Moments restored = MemoryScope.outside(() -> {
            Moments s = newState(p);
            s.m.copyFrom(m);
            s.v.copyFrom(v);
            return s;
        });
        restored.step = step;
        try {
            putState(parameter, restored);
        } catch (Exception e) {
            throw new IllegalStateException("Adam: could not free the old state of '" + parameter.path() + "'", e);
        }
    }

    @Override
    protected Moments newState(Tensor param) {
        return new Moments(Tensor.zeros(param.backend(), param.dtype(), param.shape()),
                Tensor.zeros(param.backend(), param.dtype(), param.shape()));
    }

    @Override
    protected void update(Tensor param, Tensor grad, Moments s) {
        s.step++;
        AdamConfig config = new AdamConfig(learningRate(), beta1, beta2, eps, weightDecay, decoupled, s.step);
        param.backend().adamStep(param, grad, s.m, s.v, config);
    }
}
