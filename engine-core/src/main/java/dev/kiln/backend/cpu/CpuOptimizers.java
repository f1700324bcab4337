package dev.kiln.backend.cpu;

import dev.kiln.backend.AdamConfig;
import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/** Optimizer steps, in place on float32 parameters, each element computed in double and stored as float. */
final class CpuOptimizers {
    private CpuOptimizers() {
    }

    /**
     * torch.optim.Adam / AdamW: g += wd * p (Adam) or p *= 1 - lr * wd (AdamW); m = b1 m + (1 - b1) g;
     * v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
     */
    static void adam(Tensor param, Tensor grad, Tensor m, Tensor v, AdamConfig cfg) {
        FloatBuffer pb = CpuStorage.floats(param), gb = CpuStorage.floats(grad);
        FloatBuffer mb = CpuStorage.floats(m), vb = CpuStorage.floats(v);
        int po = CpuStorage.offset(param), go = CpuStorage.offset(grad);
        int mo = CpuStorage.offset(m), vo = CpuStorage.offset(v);
        double lr = cfg.lr(), b1 = cfg.beta1(), b2 = cfg.beta2(), eps = cfg.eps(), wd = cfg.weightDecay();
        double stepSize = lr / (1 - Math.pow(b1, cfg.step()));
        double sqrtBc2 = Math.sqrt(1 - Math.pow(b2, cfg.step()));
        double decay = cfg.decoupled() ? 1 - lr * wd : 1;
        double l2 = cfg.decoupled() ? 0 : wd;
        ParallelLoops.forRange(Math.toIntExact(param.numel()), 8, (s, e) -> {
            for (int i = s; i < e; i++) {
                double p = pb.get(po + i);
                double g = gb.get(go + i) + l2 * p;
                p *= decay;
                double mi = b1 * mb.get(mo + i) + (1 - b1) * g;
                double vi = b2 * vb.get(vo + i) + (1 - b2) * g * g;
                mb.put(mo + i, (float) mi);
                vb.put(vo + i, (float) vi);
                pb.put(po + i, (float) (p - stepSize * mi / (Math.sqrt(vi) / sqrtBc2 + eps)));
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
