package dev.kiln.trainer.data;

import java.util.List;

/**
 * Preprocessed images of one batch: {@code images} holds {@code size()} arrays of (3, H, W) floats back to back,
 * ready for a tensor of shape (N, 3, H, W). Files that failed to decode are not in it, so a batch may be short.
 */
public record Batch(float[] images, int[] labels, List<Sample> samples) {

    public int size() {
        return labels.length;
    }
}
