package dev.kiln.io.image;

/**
 * Resizes 8-bit images the way PIL's {@code Image.resize(size, BILINEAR)} does, so that an image fed to a network
 * here matches the one torchvision's {@code Resize} produced when the weights were evaluated.
 *
 * <p>The filter is the triangle {@code max(0, 1 − |x|)}. When shrinking by a factor s it is stretched to cover s
 * source pixels on each side (antialiasing: every source pixel contributes); when enlarging it is plain bilinear
 * interpolation. The image is resized horizontally, rounded to 8 bits, then vertically: the same separable passes,
 * fixed-point weights (22 fractional bits) and rounding as PIL, so results agree with PIL to the last bit.
 */
public final class BilinearResampler {
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final int ONE = 1 << PRECISION_BITS;

    private BilinearResampler() {
    }

    /** The image resized to width × height. */
    public static RgbImage resize(RgbImage in, int width, int height) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("target size " + width + "x" + height);
        RgbImage out = in;
        if (width != in.width()) out = horizontal(out, Kernel.of(in.width(), width));
        if (height != in.height()) out = vertical(out, Kernel.of(in.height(), height));
        return out;
    }

    /** For each output position: the first source index and the fixed-point weights of the sources from there. */
    private record Kernel(int[] first, int[][] weights) {
        static Kernel of(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filterScale; // the triangle's support is 1, stretched by the downscale factor
            int[] first = new int[outSize];
            int[][] weights = new int[outSize][];
            for (int o = 0; o < outSize; o++) {
                double center = (o + 0.5) * scale;
                int from = Math.max((int) (center - support + 0.5), 0);
                int to = Math.min((int) (center + support + 0.5), inSize);
                double[] w = new double[to - from];
                double sum = 0;
                for (int i = 0; i < w.length; i++) {
                    w[i] = triangle((from + i - center + 0.5) / filterScale);
                    sum += w[i];
                }
                weights[o] = new int[w.length];
                for (int i = 0; i < w.length; i++) {
                    double k = sum == 0 ? 0 : w[i] / sum;
                    weights[o][i] = (int) (k < 0 ? k * ONE - 0.5 : k * ONE + 0.5); // round half away from zero
                }
                first[o] = from;
            }
            return new Kernel(first, weights);
        }

        private static double triangle(double x) {
            double a = Math.abs(x);
            return a < 1 ? 1 - a : 0;
        }
    }

    private static RgbImage horizontal(RgbImage in, Kernel k) {
        int w = k.first.length, h = in.height();
        byte[] src = in.pixels(), out = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            int row = y * in.width();
            for (int x = 0; x < w; x++) {
                int[] weights = k.weights[x];
                for (int c = 0; c < 3; c++) {
                    int acc = ONE >> 1; // +0.5 so that the shift rounds
                    for (int i = 0; i < weights.length; i++) {
                        acc += (src[(row + k.first[x] + i) * 3 + c] & 0xff) * weights[i];
                    }
                    out[(y * w + x) * 3 + c] = clip8(acc);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static RgbImage vertical(RgbImage in, Kernel k) {
        int w = in.width(), h = k.first.length;
        byte[] src = in.pixels(), out = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            int[] weights = k.weights[y];
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    int acc = ONE >> 1;
                    for (int i = 0; i < weights.length; i++) {
                        acc += (src[((k.first[y] + i) * w + x) * 3 + c] & 0xff) * weights[i];
                    }
                    out[(y * w + x) * 3 + c] = clip8(acc);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static byte clip8(int acc) {
        int v = acc >> PRECISION_BITS; // arithmetic shift: floor, also for negative sums
        return (byte) Math.max(0, Math.min(255, v));
    }
}
