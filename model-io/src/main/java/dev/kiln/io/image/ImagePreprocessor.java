package dev.kiln.io.image;

import dev.kiln.io.model.Preprocessing;

/**
 * Turns decoded images into network input as torchvision's {@code Resize(resize)}, {@code CenterCrop(crop)},
 * {@code ToTensor()}, {@code Normalize(mean, std)} do (or Keras's caffe mode, per the {@link Preprocessing}).
 */
public final class ImagePreprocessor {
    private final Preprocessing p;

    public ImagePreprocessor(Preprocessing preprocessing) {
        this.p = preprocessing;
    }

    public int size() {
        return p.crop();
    }

    /** Shorter side to {@code resize} (the longer one scaled and truncated, as torchvision computes it), then crop. */
    public RgbImage resizeAndCrop(RgbImage image) {
        RgbImage resized = resizeShorterSide(image, p.resize());
        return centerCrop(resized, p.crop());
    }

    public static RgbImage resizeShorterSide(RgbImage image, int size) {
        int w = image.width(), h = image.height();
        int newW, newH;
        if (w <= h) {
            newW = size;
            newH = (int) ((long) size * h / w);
        } else {
            newH = size;
            newW = (int) ((long) size * w / h);
        }
        return BilinearResampler.resize(image, newW, newH);
    }

    /** The centered square; an odd margin is split as Python's round() splits it (half to even). */
    public static RgbImage centerCrop(RgbImage image, int size) {
        int top = (int) Math.rint((image.height() - size) / 2.0);
        int left = (int) Math.rint((image.width() - size) / 2.0);
        return image.crop(left, top, size, size);
    }

    /** The image resized and cropped, as (3, crop, crop) floats, channel-major, normalized. */
    public float[] toChw(RgbImage image) {
        return normalize(resizeAndCrop(image));
    }

    /**
     * An image already of the network's input size as (3, H, W) floats, channel-major: channels reordered when the
     * preprocessing wants BGR, then {@code (value · scale − mean[c]) / std[c]}. Training augmentation (its own crop)
     * ends here too.
     */
    public float[] normalize(RgbImage image) {
        int n = image.width() * image.height();
        double[] mean = p.mean(), std = p.std();
        float[] out = new float[3 * n];
        for (int c = 0; c < 3; c++) {
            int source = p.bgr() ? 2 - c : c;
            float scale = (float) p.scale(), m = (float) mean[c], s = (float) std[c];
            for (int i = 0; i < n; i++) {
                float v = (image.pixels()[i * 3 + source] & 0xff) * scale;
                out[c * n + i] = (v - m) / s;
            }
        }
        return out;
    }
}
