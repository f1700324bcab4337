package dev.kiln.trainer;

/**
 * One row of the {@link History}: Keras's per-epoch logs plus the phase, learning rate and duration. Epochs are
 * numbered 1, 2, … across both phases, so phase 2 continues where phase 1 stopped (Keras's {@code initial_epoch}).
 */
public record EpochRecord(int epoch, int phase, double loss, double accuracy, double valLoss, double valAccuracy,
                          double lr, double seconds) {
}
