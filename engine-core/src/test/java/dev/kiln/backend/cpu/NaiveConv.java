package dev.kiln.backend.cpu;

/** Direct double-precision convolution loops: the definition the im2col + sgemm path must agree with. */
final class NaiveConv {
    final int n, c, h, w, k, r, s, sh, sw, ph, pw, p, q;

    NaiveConv(int n, int c, int h, int w, int k, int r, int s, int sh, int sw, int ph, int pw) {
        this.n = n; this.c = c; this.h = h; this.w = w; this.k = k; this.r = r; this.s = s;
        this.sh = sh; this.sw = sw; this.ph = ph; this.pw = pw;
        this.p = (h + 2 * ph - r) / sh + 1;
        this.q = (w + 2 * pw - s) / sw + 1;
    }

    /** Calls {@code body} for every (input index, weight index, output index) triple that one product links. */
    private void each(Triple body) {
        for (int in = 0; in < n; in++)
            for (int ik = 0; ik < k; ik++)
                for (int ip = 0; ip < p; ip++)
                    for (int iq = 0; iq < q; iq++)
                        for (int ic = 0; ic < c; ic++)
                            for (int ir = 0; ir < r; ir++) {
                                int ih = ip * sh - ph + ir;
                                if (ih < 0 || ih >= h) continue;
                                for (int is = 0; is < s; is++) {
                                    int iw = iq * sw - pw + is;
                                    if (iw < 0 || iw >= w) continue;
                                    body.accept(((in * c + ic) * h + ih) * w + iw, ((ik * c + ic) * r + ir) * s + is,
                                            ((in * k + ik) * p + ip) * q + iq);
                                }
                            }
    }

    private interface Triple {
        void accept(int x, int w, int y);
    }

    double[] forward(float[] x, float[] wt, float[] bias) {
        double[] y = new double[n * k * p * q];
        each((xi, wi, yi) -> y[yi] += (double) x[xi] * wt[wi]);
        if (bias != null) for (int i = 0; i < y.length; i++) y[i] += bias[(i / (p * q)) % k];
        return y;
    }

    double[] backwardData(float[] dy, float[] wt) {
        double[] dx = new double[n * c * h * w];
        each((xi, wi, yi) -> dx[xi] += (double) dy[yi] * wt[wi]);
        return dx;
    }

    double[] backwardFilter(float[] x, float[] dy) {
        double[] dw = new double[k * c * r * s];
        each((xi, wi, yi) -> dw[wi] += (double) dy[yi] * x[xi]);
        return dw;
    }
}
