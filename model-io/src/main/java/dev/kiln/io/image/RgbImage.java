package dev.kiln.io.image;

/**
 * An 8-bit RGB image, rows top to bottom, pixels interleaved (r, g, b), the way PIL holds an "RGB" image. Values
 * are 0..255 stored in bytes (read them with {@code & 0xff}).
 */
public record RgbImage(int width, int height, byte[] pixels) {
    public RgbImage {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("image size " + width + "x" + height);
        if (pixels.length != Math.multiplyExact(3, Math.multiplyExact(width, height))) {
            throw new IllegalArgumentException(width + "x" + height + " RGB needs " + 3L * width * height
                    + " bytes, got " + pixels.length);
        }
    }

    /** Channel {@code c} (0 = red) of the pixel at column x, row y, as 0..255. */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xff;
    }

    /** The rectangle of size w×h whose top-left corner is (left, top); it must lie inside the image. */
    public RgbImage crop(int left, int top, int w, int h) {
        if (left < 0 || top < 0 || left + w > width || top + h > height) {
            throw new IllegalArgumentException("crop " + w + "x" + h + " at (" + left + ", " + top + ") outside a "
                    + width + "x" + height + " image");
        }
        byte[] out = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            System.arraycopy(pixels, ((top + y) * width + left) * 3, out, y * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }

    /** The image mirrored left to right (torchvision's horizontal flip). */
    public RgbImage mirrored() {
        byte[] out = new byte[pixels.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                System.arraycopy(pixels, (y * width + x) * 3, out, (y * width + width - 1 - x) * 3, 3);
            }
        }
        return new RgbImage(width, height, out);
    }
}
