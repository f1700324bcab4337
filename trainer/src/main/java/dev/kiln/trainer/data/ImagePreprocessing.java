package dev.kiln.trainer.data;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Turns a decoded image into the network's input: a float array (3, crop, crop) in CHW order, scaled to [0, 1] and
 * normalized per channel. Shared by training, evaluation and {@code kiln predict}, so all three see the same pixels.
 *
 * <ul>
 *   <li>{@link #evaluate}: torchvision's {@code Resize(256)} (shorter side, bilinear with antialiasing) then
 *       {@code CenterCrop(224)}.</li>
 *   <li>{@link #augment}: {@code RandomResizedCrop(224, scale=(0.08, 1), ratio=(3/4, 4/3))} then a horizontal flip
 *       with probability 1/2.</li>
 * </ul>
 * The defaults are ImageNet's mean and std in RGB, as torchvision's pretrained weights expect.
 */
public final class ImagePreprocessing {
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    private static final double MIN_SCALE = 0.08;
    private static final double MAX_SCALE = 1.0;
    private static final double MIN_RATIO = 3.0 / 4.0;
    private static final double MAX_RATIO = 4.0 / 3.0;

    private final int resize;
    private final int crop;
    private final float[] mean;
    private final float[] std;

    public ImagePreprocessing(int resize, int crop, float[] mean, float[] std) {
        if (crop > resize) throw new IllegalArgumentException("crop " + crop + " is larger than resize " + resize);
        this.resize = resize;
        this.crop = crop;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    /** Resize 256, crop 224, ImageNet mean/std: what torchvision's ImageNet weights were trained with. */
    public static ImagePreprocessing imagenet() {
        return new ImagePreprocessing(256, 224, IMAGENET_MEAN, IMAGENET_STD);
    }

    public int cropSize() {
        return crop;
    }

    /** Floats per image: 3 × crop × crop. */
    public int imageSize() {
        return 3 * crop * crop;
    }

    /** Decodes and preprocesses one file for inference. */
    public float[] load(Path file) throws UnreadableImageException {
        return evaluate(ImageDecoder.decode(file));
    }

    /** Shorter side to {@code resize}, center crop {@code crop}, normalize. */
    public float[] evaluate(RgbImage img) {
        int w = img.width();
        int h = img.height();
        // torchvision: the shorter side becomes `resize`, the longer one int(resize * long / short).
        int outW = w <= h ? resize : (int) ((long) resize * w / h);
        int outH = w <= h ? (int) ((long) resize * h / w) : resize;
        int top = (int) Math.rint((outH - crop) / 2.0);
        int left = (int) Math.rint((outW - crop) / 2.0);
        return normalize(Resampler.resample(img, 0, 0, w, h, outW, outH, left, top, crop, crop), false);
    }

    /** A random resized crop and a random horizontal flip, drawn from {@code rng}. */
    public float[] augment(RgbImage img, SplittableRandom rng) {
        int[] box = randomResizedCropBox(img.width(), img.height(), rng);
        boolean flip = rng.nextBoolean();
        RgbImage cropped = Resampler.resample(img, box[0], box[1], box[0] + box[2], box[1] + box[3],
                crop, crop, 0, 0, crop, crop);
        return normalize(cropped, flip);
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

    /** CHW floats: (value / 255 - mean) / std per channel, optionally mirrored left to right. */
    private float[] normalize(RgbImage img, boolean flip) {
        int w = img.width();
        int plane = w * img.height();
        float[] in = img.pixels();
        float[] out = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            float m = mean[c];
            float invStd = 1f / std[c];
            for (int y = 0; y < img.height(); y++) {
                int row = c * plane + y * w;
                for (int x = 0; x < w; x++) {
                    float v = in[row + (flip ? w - 1 - x : x)];
                    out[row + x] = (v / 255f - m) * invStd;
                }
            }
        }
        return out;
    }

    /**
     * What a saved model records so that {@code predict} repeats exactly this preprocessing, in the JSON shape of
     * model-io's {@code ModelCard} field {@code preprocessing}.
     */
    public Map<String, Object> describe() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", "torchvision");
        d.put("channels", "RGB");
        d.put("scale", 1.0 / 255);
        d.put("mean", List.of(decimal(mean[0]), decimal(mean[1]), decimal(mean[2])));
        d.put("std", List.of(decimal(std[0]), decimal(std[1]), decimal(std[2])));
        d.put("resize", resize);
        d.put("crop", crop);
        return d;
    }

    /** 0.485f as 0.485, not 0.48500001430511475: the shortest decimal that reads back as the same float. */
    private static double decimal(float f) {
        return Double.parseDouble(Float.toString(f));
    }
}
