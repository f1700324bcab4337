package dev.kiln.trainer.data;

/**
 * Bilinear resampling with antialiasing, computed as PIL's {@code Image.resize(size, BILINEAR, box)} does (and so
 * torchvision's {@code Resize} on PIL images): when shrinking, the triangle filter is widened by the scale factor,
 * so every source pixel contributes instead of aliasing. Separable: a horizontal pass, then a vertical one.
 * Unlike PIL, values stay in float between the passes.
 */
final class Resampler {
    private Resampler() {
    }

    /** Filter weights for a window of input pixels, per output pixel. */
    private record Axis(int[] start, int[] length, float[][] weights) {
    }

    /**
     * Resamples the source box {@code [x0, x1) × [y0, y1)} (in source pixels, fractional allowed) to a virtual image
     * of {@code outW × outH}, and returns only its window starting at ({@code left}, {@code top}) of size
     * {@code cropW × cropH}: resize-then-crop without computing the pixels that the crop discards.
     */
    static RgbImage resample(RgbImage src, double x0, double y0, double x1, double y1, int outW, int outH,
                             int left, int top, int cropW, int cropH) {
        Axis ax = axis(src.width(), x0, x1, outW, left, cropW);
        Axis ay = axis(src.height(), y0, y1, outH, top, cropH);
        int rowFirst = ay.start[0];
        int rowLast = rowFirst;
        for (int i = 0; i < cropH; i++) rowLast = Math.max(rowLast, ay.start[i] + ay.length[i]);
        int rows = rowLast - rowFirst;
        int sw = src.width();
        int srcPlane = sw * src.height();
        float[] in = src.pixels();
        float[] tmp = new float[rows * cropW];
        float[] out = new float[3 * cropW * cropH];
        for (int c = 0; c < 3; c++) {
            int base = c * srcPlane;
            for (int r = 0; r < rows; r++) {
                int rowBase = base + (rowFirst + r) * sw;
                for (int x = 0; x < cropW; x++) {
                    float[] w = ax.weights[x];
                    int s = rowBase + ax.start[x];
                    float acc = 0;
                    for (int k = 0; k < w.length; k++) acc += w[k] * in[s + k];
                    tmp[r * cropW + x] = acc;
                }
            }
            int outBase = c * cropW * cropH;
            for (int y = 0; y < cropH; y++) {
                float[] w = ay.weights[y];
                int r0 = ay.start[y] - rowFirst;
                for (int x = 0; x < cropW; x++) {
                    float acc = 0;
                    for (int k = 0; k < w.length; k++) acc += w[k] * tmp[(r0 + k) * cropW + x];
                    out[outBase + y * cropW + x] = acc;
                }
            }
        }
        return new RgbImage(cropW, cropH, out);
    }

    /** PIL's {@code precompute_coeffs} for the bilinear (triangle) filter, for outputs [from, from + count). */
    private static Axis axis(int inSize, double in0, double in1, int outSize, int from, int count) {
        double scale = (in1 - in0) / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filterScale; // the triangle filter's support is 1 pixel, widened when shrinking
        int[] start = new int[count];
        int[] length = new int[count];
        float[][] weights = new float[count][];
        for (int i = 0; i < count; i++) {
            double center = in0 + (from + i + 0.5) * scale;
            int lo = Math.max((int) (center - support + 0.5), 0);
            int hi = Math.min((int) (center + support + 0.5), inSize);
            if (hi <= lo) { // a box at the very edge: use the nearest pixel
                lo = Math.min(Math.max((int) center, 0), inSize - 1);
                hi = lo + 1;
            }
            float[] w = new float[hi - lo];
            double total = 0;
            for (int k = 0; k < w.length; k++) {
                double t = Math.abs((lo + k - center + 0.5) / filterScale);
                double v = t < 1 ? 1 - t : 0;
                w[k] = (float) v;
                total += v;
            }
            if (total > 0) {
                for (int k = 0; k < w.length; k++) w[k] = (float) (w[k] / total);
            } else {
                w[w.length / 2] = 1f;
            }
            start[i] = lo;
            length[i] = w.length;
            weights[i] = w;
        }
        return new Axis(start, length, weights);
    }
}
