package dev.kiln.trainer.data;

/**
 * A decoded image as three planes (R, G, B), each {@code height × width} row-major, with values 0–255 in float
 * so that resampling keeps full precision.
 */
public record RgbImage(int width, int height, float[] pixels) {
    public RgbImage {
        if ((long) width * height * 3 != pixels.length) {
            throw new IllegalArgumentException("RgbImage " + width + "x" + height + " needs " + 3L * width * height
                    + " values, got " + pixels.length);
        }
    }
}
