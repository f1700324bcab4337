package dev.kiln.backend.cpu;

import dev.kiln.backend.AdamConfig;
import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/** Optimizer steps, in place on float32 parameters, each element computed in double and stored as float. */
final class CpuOptimizers {
    private CpuOptimizers() {
    }

    /** Elements per chunk staged in heap arrays: four chunks of 16 KB stay in L1/L2 while they are updated. */
    private static final int CHUNK = 4096;

    /**
     * torch.optim.Adam / AdamW: g += wd * p (Adam) or p *= 1 - lr * wd (AdamW); m = b1 m + (1 - b1) g;
     * v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
     *
     * <p>The update is memory-bound (four tensors read, three written), so chunks of each are copied into heap
     * arrays, where C2 vectorizes the loop, and the per-element maths is float; the per-step constants are computed
     * in double.
     */
    static void adam(Tensor param, Tensor grad, Tensor m, Tensor v, AdamConfig cfg) {
        FloatBuffer pb = CpuStorage.floats(param), gb = CpuStorage.floats(grad);
        FloatBuffer mb = CpuStorage.floats(m), vb = CpuStorage.floats(v);
        int po = CpuStorage.offset(param), go = CpuStorage.offset(grad);
        int mo = CpuStorage.offset(m), vo = CpuStorage.offset(v);
        double lr = cfg.lr(), wd = cfg.weightDecay();
        // 1 - beta in double first, as torch does (1 - 0.999f in float is off by 5e-5 relative).
        float b1 = (float) cfg.beta1(), b2 = (float) cfg.beta2(), eps = (float) cfg.eps();
        float oneMinusB1 = (float) (1 - cfg.beta1()), oneMinusB2 = (float) (1 - cfg.beta2());
        float stepSize = (float) (lr / (1 - Math.pow(cfg.beta1(), cfg.step())));
        float invSqrtBc2 = (float) (1 / Math.sqrt(1 - Math.pow(cfg.beta2(), cfg.step())));
        float decay = (float) (cfg.decoupled() ? 1 - lr * wd : 1);
        float l2 = (float) (cfg.decoupled() ? 0 : wd);
        int n = Math.toIntExact(param.numel());
        int chunks = (n + CHUNK - 1) / CHUNK;
        ParallelLoops.forRange(chunks, 8L * CHUNK, (c0, c1) -> {
            float[] p = new float[CHUNK], g = new float[CHUNK], mm = new float[CHUNK], vv = new float[CHUNK];
            for (int c = c0; c < c1; c++) {
                int from = c * CHUNK, len = Math.min(CHUNK, n - from);
                pb.get(po + from, p, 0, len);
                gb.get(go + from, g, 0, len);
                mb.get(mo + from, mm, 0, len);
                vb.get(vo + from, vv, 0, len);
                for (int i = 0; i < len; i++) {
                    float gi = g[i] + l2 * p[i];
                    float mi = b1 * mm[i] + oneMinusB1 * gi;
                    float vi = b2 * vv[i] + oneMinusB2 * gi * gi;
                    mm[i] = mi;
                    vv[i] = vi;
                    p[i] = p[i] * decay - stepSize * mi / ((float) Math.sqrt(vi) * invSqrtBc2 + eps);
                }
                pb.put(po + from, p, 0, len);
                mb.put(mo + from, mm, 0, len);
                vb.put(vo + from, vv, 0, len);
            }
        });
    }

    /** torch.optim.SGD: g += wd * p; buf = g (first step) or momentum * buf + g; p -= lr * buf. */
    static void sgd(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double wd, boolean first) {
        FloatBuffer pb = CpuStorage.floats(param), gb = CpuStorage.floats(grad);
        FloatBuffer bb = momentum != 0 ? CpuStorage.floats(buf) : null;
        int po = CpuStorage.offset(param), go = CpuStorage.offset(grad), bo = bb == null ? 0 : CpuStorage.offset(buf);
        ParallelLoops.forRange(Math.toIntExact(param.numel()), 4, (s, e) -> {
            for (int i = s; i < e; i++) {
                double p = pb.get(po + i);
                double d = gb.get(go + i) + wd * p;
                if (bb != null) {
                    d = first ? d : momentum * bb.get(bo + i) + d;
                    bb.put(bo + i, (float) d);
                }
                pb.put(po + i, (float) (p - lr * d));
            }
        });
    }
}
