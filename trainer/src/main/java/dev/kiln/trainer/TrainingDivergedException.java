package dev.kiln.trainer;

/** The loss became NaN or infinite: training stops, and the last checkpoint written stays the good one. */
public final class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String message) {
        super(message);
    }
}
