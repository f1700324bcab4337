package dev.kiln.backend;

/**
 * One Adam step's constants, as {@code torch.optim.Adam} / {@code AdamW} define them.
 *
 * @param step        the step number t, starting at 1, used for bias correction
 * @param decoupled   false: L2 added to the gradient ({@code g += wd * p}, torch Adam);
 *                    true: weight decay applied to the parameter ({@code p *= 1 - lr * wd}, AdamW)
 */
public record AdamConfig(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
                         long step) {
}
