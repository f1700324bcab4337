package dev.kiln.trainer.data;

import java.nio.file.Path;

/**
 * One labelled image file. {@code index} is the sample's position in its split, which seeds its augmentation so
 * that parallel decoding gives the same pixels as serial decoding.
 */
public record Sample(Path file, int label, int index) {
}
