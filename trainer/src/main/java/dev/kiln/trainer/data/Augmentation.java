package dev.kiln.trainer.data;

import dev.kiln.io.image.BilinearResampler;
import dev.kiln.io.image.ImagePreprocessor;
import dev.kiln.io.image.RgbImage;

import java.util.SplittableRandom;

/**
 * Training augmentation as torchvision composes it: {@code RandomResizedCrop(size, scale=(0.08, 1),
 * ratio=(3/4, 4/3))} (a random box, cropped, then resized with PIL's bilinear filter) and
 * {@code RandomHorizontalFlip()}, then the weights' own normalization. Every step but the random choices is
 * model-io's: {@link RgbImage#crop}, {@link BilinearResampler}, {@link RgbImage#mirrored},
 * {@link ImagePreprocessor#normalize}. Evaluation uses {@link ImagePreprocessor#toChw} alone.
 */
public final class Augmentation {
    private static final double MIN_SCALE = 0.08;
    private static final double MAX_SCALE = 1.0;
    private static final double MIN_RATIO = 3.0 / 4.0;
    private static final double MAX_RATIO = 4.0 / 3.0;

    private final ImagePreprocessor preprocessor;

    public Augmentation(ImagePreprocessor preprocessor) {
        this.preprocessor = preprocessor;
    }

    /** A random resized crop and a random horizontal flip of {@code image}, drawn from {@code rng}, normalized. */
    public float[] apply(RgbImage image, SplittableRandom rng) {
        int[] box = randomResizedCropBox(image.width(), image.height(), rng);
        boolean flip = rng.nextBoolean();
        int size = preprocessor.size();
        RgbImage crop = BilinearResampler.resize(image.crop(box[0], box[1], box[2], box[3]), size, size);
        return preprocessor.normalize(flip ? crop.mirrored() : crop);
    }

    /** torchvision's {@code RandomResizedCrop.get_params}: {x, y, width, height} in source pixels. */
    static int[] randomResizedCropBox(int width, int height, SplittableRandom rng) {
        double area = (double) width * height;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (MIN_SCALE + rng.nextDouble() * (MAX_SCALE - MIN_SCALE));
            double logRatio = Math.log(MIN_RATIO) + rng.nextDouble() * (Math.log(MAX_RATIO) - Math.log(MIN_RATIO));
            double aspect = Math.exp(logRatio);
            int w = (int) Math.round(Math.sqrt(target * aspect));
            int h = (int) Math.round(Math.sqrt(target / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int y = rng.nextInt(height - h + 1);
                int x = rng.nextInt(width - w + 1);
                return new int[]{x, y, w, h};
            }
        }
        // Fallback: the largest central crop whose ratio is within bounds.
        double ratio = (double) width / height;
        int w = width;
        int h = height;
        if (ratio < MIN_RATIO) {
            h = (int) Math.round(w / MIN_RATIO);
        } else if (ratio > MAX_RATIO) {
            w = (int) Math.round(h * MAX_RATIO);
        }
        return new int[]{(width - w) / 2, (height - h) / 2, w, h};
    }
}
