package dev.kiln.optim;

import dev.kiln.nn.Layer;

/**
 * Adam with decoupled weight decay, as {@code torch.optim.AdamW}: {@code p *= 1 - lr * wd} before the Adam step.
 * Defaults as torch: lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 1e-2.
 */
public final class AdamW extends Adam {
    public static final double DEFAULT_WEIGHT_DECAY = 1e-2;

    public AdamW(Layer model, double lr) {
        this(model, lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_WEIGHT_DECAY);
    }

    public AdamW(Layer model, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super(model, lr, beta1, beta2, eps, weightDecay, true);
    }
}
