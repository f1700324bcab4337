package dev.kiln.io.model;

import java.util.Arrays;

/**
 * How an image becomes the network's input; it belongs to the weights, because each set was trained with its own.
 * The pipeline: decode to RGB, resize the shorter side to {@code resize}, center-crop {@code crop}×{@code crop},
 * reorder the channels to BGR if {@code bgr}, then per channel {@code (value · scale − mean[c]) / std[c]} with
 * {@code value} in 0..255 and mean/std in the (possibly reordered) channel order.
 *
 * @param name  "torchvision" or "caffe" (Keras's name for its ResNet50 preprocessing), for people reading cards
 */
public record Preprocessing(String name, boolean bgr, double scale, double[] mean, double[] std, int resize, int crop) {
    /** torchvision's ImageNet preprocessing: RGB in [0, 1], normalized with ImageNet's mean and std. */
    public static final Preprocessing TORCHVISION = new Preprocessing("torchvision", false, 1.0 / 255,
            new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225}, 256, 224);
    /** Keras's "caffe" mode (ResNet50): RGB → BGR, ImageNet's BGR mean subtracted from 0..255, no scaling. */
    public static final Preprocessing CAFFE = new Preprocessing("caffe", true, 1.0,
            new double[] {103.939, 116.779, 123.68}, new double[] {1, 1, 1}, 256, 224);

    public Preprocessing {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("preprocessing '" + name + "' needs 3 means and 3 stds");
        }
        if (crop <= 0 || resize < crop) {
            throw new IllegalArgumentException("preprocessing '" + name + "': resize " + resize
                    + " must be at least the crop " + crop + " > 0");
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] std() {
        return std.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocessing p && p.name.equals(name) && p.bgr == bgr && p.scale == scale
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std) && p.resize == resize && p.crop == crop;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(mean);
    }

    @Override
    public String toString() {
        return name + (bgr ? " BGR" : " RGB") + " scale " + scale + " mean " + Arrays.toString(mean) + " std "
                + Arrays.toString(std) + " resize " + resize + " crop " + crop;
    }
}
