package dev.kiln.io.image;

/** One class of a prediction: its index in the model's output, its name, and its probability. */
public record ClassScore(int index, String label, double probability) {
}
