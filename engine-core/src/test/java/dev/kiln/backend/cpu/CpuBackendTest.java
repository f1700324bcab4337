package dev.kiln.backend.cpu;

import dev.kiln.backend.AdamConfig;
import dev.kiln.backend.Backends;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.kiln.backend.cpu.TestTensors.assertClose;
import static dev.kiln.backend.cpu.TestTensors.at;
import static dev.kiln.backend.cpu.TestTensors.out;
import static dev.kiln.backend.cpu.TestTensors.random;
import static dev.kiln.backend.cpu.TestTensors.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CpuBackend against small naive computations written out in the tests (double precision where it matters). */
class CpuBackendTest {
    private final CpuBackend cpu = CpuBackend.get();
    private final Random rng = new Random(42);

    @Test
    void isFoundThroughServiceLoader() {
        assertSame(cpu, Backends.get("cpu"));
        assertTrue(cpu.supports(DType.F32));
        assertTrue(cpu.supports(DType.I32));
        assertFalse(cpu.supports(DType.F64));
        var e = assertThrows(UnsupportedOperationException.class, () -> cpu.allocate(DType.F64, 4));
        assertTrue(e.getMessage().contains("reference backend"), e.getMessage());
        assertEquals(cpu.threads(), Blas.threads(), "OpenBLAS threads are set explicitly");
    }

    @Test
    void allocatorReusesFreedBlocks() {
        CachingAllocator a = new CachingAllocator();
        CachingAllocator.Block b1 = a.acquire(1000 * 4);
        long created = a.blocksCreated();
        long inUse = a.allocatedBytes();
        assertTrue(inUse >= 4000);
        a.release(b1);
        assertEquals(0, a.allocatedBytes());
        assertEquals(inUse, a.cachedBytes());
        CachingAllocator.Block b2 = a.acquire(1000 * 4);
        assertSame(b1, b2, "a freed block of the same size class is handed out again");
        assertEquals(created, a.blocksCreated());
        CachingAllocator.Block b3 = a.acquire(990 * 4); // same size class
        assertEquals(created + 1, a.blocksCreated());
        assertEquals(a.allocatedBytes(), a.peakBytes());
        a.release(b2);
        a.release(b3);
        a.acquire(995 * 4);
        assertEquals(created + 1, a.blocksCreated(), "rounded size classes let near sizes share blocks");
        a.trimCache();
        assertEquals(0, a.cachedBytes());
        assertTrue(CachingAllocator.sizeClass(1000) >= 1000 && CachingAllocator.sizeClass(1000) <= 1125);
    }

    @Test
    void tensorsReturnMemoryToTheCacheOnClose() {
        Tensor t = Tensor.empty(cpu, DType.F32, Shape.of(123457));
        long created = cpu.blocksCreated();
        long inUse = cpu.allocatedBytes();
        t.close();
        assertTrue(cpu.allocatedBytes() < inUse);
        Tensor u = Tensor.empty(cpu, DType.F32, Shape.of(123457));
        assertEquals(created, cpu.blocksCreated());
        assertTrue(cpu.peakBytes() >= cpu.allocatedBytes());
        u.close();
    }

    @Test
    void writeReadAndStridedCopyWithConversion() {
        float[] data = random(rng, 3 * 5);
        Tensor a = at(cpu, data, 3, 5);
        assertArrayEquals(data, cpu.readFloats(a));
        // transpose view -> contiguous copy
        Tensor t = a.transpose(0, 1);
        Tensor c = Tensor.empty(cpu, DType.F32, Shape.of(5, 3));
        cpu.copy(t, c);
        float[] got = cpu.readFloats(c);
        for (int i = 0; i < 3; i++) for (int j = 0; j < 5; j++) assertEquals(data[i * 5 + j], got[j * 3 + i]);
        // narrow (offset, non-contiguous rows) into a transposed destination
        Tensor src = a.narrow(1, 1, 3); // (3, 3), offset 1, stride (5, 1)
        Tensor dstBase = Tensor.zeros(cpu, DType.F32, Shape.of(3, 3));
        Tensor dst = dstBase.transpose(0, 1);
        cpu.copy(src, dst);
        float[] d = cpu.readFloats(dstBase);
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) assertEquals(data[i * 5 + 1 + j], d[j * 3 + i]);
        // I32 <-> F32
        Tensor ints = Tensor.ofLabels(cpu, new int[]{3, -2, 7});
        Tensor f = Tensor.empty(cpu, DType.F32, Shape.of(3));
        cpu.copy(ints, f);
        assertArrayEquals(new float[]{3, -2, 7}, cpu.readFloats(f));
        cpu.write(f, new float[]{1.9f, 4f, -5f});
        cpu.copy(f, ints);
        assertArrayEquals(new double[]{1, 4, -5}, cpu.readDoubles(ints));
        // rank 0 / one element
        Tensor s = Tensor.of(cpu, new float[]{2.5f});
        assertEquals(2.5, s.item());
    }

    @Test
    void gemmHonoursOffsetsTransposesAndOverwritesNaN() {
        for (boolean ta : new boolean[]{false, true}) {
            for (boolean tb : new boolean[]{false, true}) {
                int m = 5, n = 7, k = 3;
                float[] a = random(rng, m * k), b = random(rng, k * n);
                Tensor at = ta ? at(cpu, a, k, m) : at(cpu, a, m, k);
                Tensor bt = tb ? at(cpu, b, n, k) : at(cpu, b, k, n);
                Tensor c = out(cpu, m, n);
                cpu.gemm(ta, tb, 2.0, at, bt, 0.0, c);
                double[] ref = new double[m * n];
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        for (int l = 0; l < k; l++) {
                            double av = ta ? a[l * m + i] : a[i * k + l];
                            double bv = tb ? b[j * k + l] : b[l * n + j];
                            ref[i * n + j] += 2 * av * bv;
                        }
                assertClose("gemm " + ta + tb, ref, cpu.readFloats(c), 1e-6, 0);
                cpu.gemm(ta, tb, 1.0, at, bt, 1.0, c); // beta 1 accumulates
                for (int i = 0; i < ref.length; i++) ref[i] *= 1.5;
                assertClose("gemm beta " + ta + tb, ref, cpu.readFloats(c), 1e-6, 0);
            }
        }
    }

    @Test
    void convolutionMatchesDirectLoops() {
        // n, c, h, w, k, r, s, stride, pad: 1x1 direct, 1x1 stride 2, 3x3, 7x7 stem-like, odd sizes,
        // tiny images (grouped GEMMs), and a tall image whose rows exceed the group threshold.
        int[][] cases = {
                {2, 8, 6, 6, 4, 1, 1, 1, 0}, {3, 4, 7, 7, 6, 1, 1, 2, 0}, {2, 3, 9, 7, 5, 3, 3, 1, 1},
                {2, 3, 13, 11, 4, 7, 7, 2, 3}, {3, 5, 5, 5, 3, 3, 3, 2, 1}, {4, 6, 3, 3, 5, 3, 3, 1, 1},
                {1, 2, 24, 25, 3, 3, 3, 1, 0}, {2, 3, 24, 24, 5, 1, 1, 1, 0}, {5, 4, 4, 4, 3, 1, 1, 1, 0}, {2, 3, 6, 8, 2, 2, 3, 3, 2},
        };
        for (int[] cs : cases) {
            for (boolean withBias : new boolean[]{true, false}) {
                NaiveConv nc = new NaiveConv(cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], cs[7], cs[7], cs[8], cs[8]);
                Conv2dSpec spec = Conv2dSpec.of(cs[7], cs[8]);
                String name = java.util.Arrays.toString(cs) + (withBias ? " bias" : "");
                float[] x = random(rng, nc.n * nc.c * nc.h * nc.w), w = random(rng, nc.k * nc.c * nc.r * nc.s);
                float[] bias = withBias ? random(rng, nc.k) : null, dy = random(rng, nc.n * nc.k * nc.p * nc.q);
                Tensor xt = at(cpu, x, nc.n, nc.c, nc.h, nc.w), wt = at(cpu, w, nc.k, nc.c, nc.r, nc.s);
                Tensor bt = withBias ? at(cpu, bias, nc.k) : null, dyt = at(cpu, dy, nc.n, nc.k, nc.p, nc.q);
                Tensor y = out(cpu, nc.n, nc.k, nc.p, nc.q), dx = out(cpu, nc.n, nc.c, nc.h, nc.w);
                Tensor dw = out(cpu, nc.k, nc.c, nc.r, nc.s);
                cpu.conv2dForward(xt, wt, bt, y, spec);
                assertClose("conv forward " + name, nc.forward(x, w, bias), cpu.readFloats(y), 1e-5, 0);
                cpu.conv2dBackwardData(dyt, wt, dx, spec);
                assertClose("conv backward data " + name, nc.backwardData(dy, w), cpu.readFloats(dx), 1e-5, 0);
                cpu.conv2dBackwardFilter(xt, dyt, dw, spec);
                assertClose("conv backward filter " + name, nc.backwardFilter(x, dy), cpu.readFloats(dw), 1e-5, 0);
            }
        }
        assertTrue(cpu.workspaceBytes() > 0);
    }

    @Test
    void elementwiseKernels() {
        int n = 100_003; // large enough to run in parallel, odd to exercise chunk edges
        float[] a = random(rng, n), b = random(rng, n);
        Tensor at = at(cpu, a, n), bt = at(cpu, b, n), o = out(cpu, n);
        double[] ref = new double[n];
        cpu.add(at, bt, o);
        for (int i = 0; i < n; i++) ref[i] = (float) (a[i] + b[i]);
        assertClose("add", ref, cpu.readFloats(o), 0, 0);
        cpu.mul(at, bt, o);
        for (int i = 0; i < n; i++) ref[i] = a[i] * b[i];
        assertClose("mul", ref, cpu.readFloats(o), 1e-7, 0);
        cpu.scale(at, -3, o);
        for (int i = 0; i < n; i++) ref[i] = -3.0 * a[i];
        assertClose("scale", ref, cpu.readFloats(o), 1e-7, 0);
        cpu.axpy(0.5, bt, o);
        for (int i = 0; i < n; i++) ref[i] += 0.5 * b[i];
        assertClose("axpy", ref, cpu.readFloats(o), 1e-6, 0);
        cpu.reluForward(at, o);
        for (int i = 0; i < n; i++) ref[i] = Math.max(0, a[i]);
        assertClose("relu", ref, cpu.readFloats(o), 0, 0);
        Tensor dx = out(cpu, n);
        cpu.reluBackward(o, bt, dx);
        for (int i = 0; i < n; i++) ref[i] = a[i] > 0 ? b[i] : 0;
        assertClose("relu backward", ref, cpu.readFloats(dx), 0, 0);
        Tensor s = out(cpu, 1);
        cpu.sum(at, s);
        double total = 0;
        for (float v : a) total += v;
        assertEquals(total, s.item(), 1e-4);
        cpu.fill(o, 3);
        for (float v : cpu.readFloats(o)) assertEquals(3f, v);
    }

    @Test
    void dropoutMaskIsSeededAndScaled() {
        Tensor m = out(cpu, 10_000);
        cpu.dropoutMask(m, 0.25, 7);
        float[] first = cpu.readFloats(m);
        int zeros = 0;
        for (float v : first) {
            if (v == 0) zeros++;
            else assertEquals(1 / 0.75f, v, 1e-6);
        }
        assertEquals(2500, zeros, 200);
        cpu.dropoutMask(m, 0.25, 7);
        assertArrayEquals(first, cpu.readFloats(m));
        var r = new java.util.SplittableRandom(7);
        for (int i = 0; i < 20; i++) assertEquals(r.nextDouble() < 0.25, first[i] == 0);
    }

    @Test
    void channelBiasAndSums() {
        int n = 3, c = 4, hw = 10;
        float[] y = random(rng, n * c * hw), bias = random(rng, c);
        Tensor yt = at(cpu, y, n, c, 2, 5);
        cpu.addChannelBias(yt, at(cpu, bias, c));
        double[] ref = new double[y.length];
        for (int i = 0; i < y.length; i++) ref[i] = y[i] + bias[(i / hw) % c];
        assertClose("bias", ref, cpu.readFloats(yt), 1e-7, 0);
        Tensor s = out(cpu, c);
        cpu.channelSum(at(cpu, y, n, c, 2, 5), s);
        double[] sums = new double[c];
        for (int i = 0; i < y.length; i++) sums[(i / hw) % c] += y[i];
        assertClose("channelSum", sums, cpu.readFloats(s), 1e-6, 0);
        // (N, C) form: rows of 2 channels
        Tensor s2 = out(cpu, 2);
        cpu.channelSum(at(cpu, y, y.length / 2, 2), s2);
        double[] sums2 = new double[2];
        for (int i = 0; i < y.length; i++) sums2[i % 2] += y[i];
        assertClose("channelSum (N, C)", sums2, cpu.readFloats(s2), 1e-6, 0);
    }

    @Test
    void batchNormTrainingAndInference() {
        int n = 3, c = 4, h = 5, w = 3, plane = h * w, m = n * plane;
        float[] x = random(rng, n * c * plane), dy = random(rng, x.length);
        for (int i = 0; i < x.length; i++) x[i] = x[i] * 2 + 10; // a mean far from 0
        float[] gamma = random(rng, c), beta = random(rng, c);
        Tensor xt = at(cpu, x, n, c, h, w), dyt = at(cpu, dy, n, c, h, w);
        Tensor g = at(cpu, gamma, c), b = at(cpu, beta, c);
        Tensor rm = at(cpu, new float[]{0, 1, 2, 3}, c), rv = at(cpu, new float[]{1, 1, 1, 1}, c);
        Tensor y = out(cpu, n, c, h, w), sm = out(cpu, c), si = out(cpu, c);
        double eps = 1e-5, mom = 0.1;
        cpu.batchNormForwardTraining(xt, g, b, y, rm, rv, mom, eps, sm, si);
        double[] mean = new double[c], var = new double[c], refY = new double[x.length];
        for (int i = 0; i < x.length; i++) mean[(i / plane) % c] += x[i] / (double) m;
        for (int i = 0; i < x.length; i++) var[(i / plane) % c] += Math.pow(x[i] - mean[(i / plane) % c], 2) / m;
        for (int i = 0; i < x.length; i++) {
            int ch = (i / plane) % c;
            refY[i] = (x[i] - mean[ch]) / Math.sqrt(var[ch] + eps) * gamma[ch] + beta[ch];
        }
        assertClose("bn y", refY, cpu.readFloats(y), 1e-5, 0);
        assertClose("bn saveMean", mean, cpu.readFloats(sm), 1e-6, 0);
        double[] inv = new double[c], rmRef = new double[c], rvRef = new double[c];
        for (int ch = 0; ch < c; ch++) {
            inv[ch] = 1 / Math.sqrt(var[ch] + eps);
            rmRef[ch] = 0.9 * ch + 0.1 * mean[ch];
            rvRef[ch] = 0.9 + 0.1 * var[ch] * m / (m - 1);
        }
        assertClose("bn saveInvStd", inv, cpu.readFloats(si), 1e-5, 0);
        assertClose("bn running mean", rmRef, cpu.readFloats(rm), 1e-6, 0);
        assertClose("bn running var", rvRef, cpu.readFloats(rv), 1e-6, 0);

        Tensor dx = out(cpu, n, c, h, w), dg = out(cpu, c), db = out(cpu, c);
        cpu.batchNormBackward(xt, dyt, g, sm, si, dx, dg, db);
        double[] sumDy = new double[c], sumDyXhat = new double[c], refDx = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int ch = (i / plane) % c;
            sumDy[ch] += dy[i];
            sumDyXhat[ch] += dy[i] * (x[i] - mean[ch]) * inv[ch];
        }
        for (int i = 0; i < x.length; i++) {
            int ch = (i / plane) % c;
            double xhat = (x[i] - mean[ch]) * inv[ch];
            refDx[i] = gamma[ch] * inv[ch] * (dy[i] - sumDy[ch] / m - xhat * sumDyXhat[ch] / m);
        }
        assertClose("bn dx", refDx, cpu.readFloats(dx), 1e-4, 0);
        assertClose("bn dgamma", sumDyXhat, cpu.readFloats(dg), 1e-5, 0);
        assertClose("bn dbeta", sumDy, cpu.readFloats(db), 1e-5, 0);
        cpu.batchNormBackward(xt, dyt, g, sm, si, null, dg, null); // nullable outputs

        // inference with the running statistics
        Tensor yi = out(cpu, n, c, h, w);
        float[] rmv = cpu.readFloats(rm), rvv = cpu.readFloats(rv);
        cpu.batchNormForwardInference(xt, g, b, rm, rv, eps, yi);
        double[] refI = new double[x.length], refDxI = new double[x.length], dgI = new double[c];
        for (int i = 0; i < x.length; i++) {
            int ch = (i / plane) % c;
            double is = 1 / Math.sqrt(rvv[ch] + eps);
            refI[i] = (x[i] - rmv[ch]) * is * gamma[ch] + beta[ch];
            refDxI[i] = dy[i] * gamma[ch] * is;
            dgI[ch] += dy[i] * (x[i] - rmv[ch]) * is;
        }
        assertClose("bn inference y", refI, cpu.readFloats(yi), 1e-5, 0);
        cpu.batchNormBackwardInference(xt, dyt, g, rm, rv, eps, dx, dg, db);
        assertClose("bn inference dx", refDxI, cpu.readFloats(dx), 1e-5, 0);
        assertClose("bn inference dgamma", dgI, cpu.readFloats(dg), 1e-5, 0);
        assertClose("bn inference dbeta", sumDy, cpu.readFloats(db), 1e-5, 0);
    }

    @Test
    void maxPoolRoutesToFirstMaximumAndAccumulatesOverlaps() {
        // One 4x4 plane full of ties: 3x3 windows, stride 2, padding 1, ceil mode.
        Pool2dSpec spec = new Pool2dSpec(3, 2, 1, true);
        int h = 4, p = spec.outSize(h);
        float[] x = {1, 1, 0, 2,
                1, 1, 0, 2,
                0, 0, 0, 0,
                5, 0, 5, 0};
        Tensor xt = at(cpu, x, 1, 1, h, h), y = out(cpu, 1, 1, p, p);
        cpu.maxPool2dForward(xt, y, spec);
        double[] refY = new double[p * p], refDx = new double[16];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) {
                double best = Double.NEGATIVE_INFINITY;
                int arg = -1;
                for (int r = 0; r < 3; r++)
                    for (int s = 0; s < 3; s++) {
                        int ih = i * 2 - 1 + r, iw = j * 2 - 1 + s;
                        if (ih < 0 || iw < 0 || ih >= h || iw >= h) continue;
                        if (x[ih * h + iw] > best) {
                            best = x[ih * h + iw];
                            arg = ih * h + iw;
                        }
                    }
                refY[i * p + j] = best;
                refDx[arg] += 1 + i * p + j;
            }
        assertClose("maxpool y", refY, cpu.readFloats(y), 0, 0);
        float[] dy = new float[p * p];
        for (int i = 0; i < dy.length; i++) dy[i] = 1 + i;
        Tensor dx = out(cpu, 1, 1, h, h);
        cpu.maxPool2dBackward(xt, y, at(cpu, dy, 1, 1, p, p), dx, spec);
        assertClose("maxpool dx", refDx, cpu.readFloats(dx), 0, 0);
        // ResNet stem geometry on random data: values only (argmax ties are improbable)
        Pool2dSpec stem = new Pool2dSpec(3, 2, 1, false);
        float[] r = random(rng, 2 * 3 * 9 * 9);
        Tensor ys = out(cpu, 2, 3, stem.outSize(9), stem.outSize(9));
        cpu.maxPool2dForward(at(cpu, r, 2, 3, 9, 9), ys, stem);
        assertEquals(2 * 3 * 5 * 5, cpu.readFloats(ys).length);
    }

    @Test
    void globalAveragePool() {
        float[] x = random(rng, 2 * 3 * 4 * 5);
        Tensor y = out(cpu, 2, 3);
        cpu.globalAvgPoolForward(at(cpu, x, 2, 3, 4, 5), y);
        double[] ref = new double[6];
        for (int i = 0; i < x.length; i++) ref[i / 20] += x[i] / 20.0;
        assertClose("gap", ref, cpu.readFloats(y), 1e-6, 0);
        float[] dy = random(rng, 6);
        Tensor dx = out(cpu, 2, 3, 4, 5);
        cpu.globalAvgPoolBackward(at(cpu, dy, 2, 3), dx);
        double[] refDx = new double[x.length];
        for (int i = 0; i < x.length; i++) refDx[i] = dy[i / 20] / 20.0;
        assertClose("gap backward", refDx, cpu.readFloats(dx), 1e-6, 0);
    }

    @Test
    void softmaxAndCrossEntropy() {
        int n = 4, k = 5;
        float[] logits = random(rng, n * k);
        logits[3] = 80; // stability: exp(80) overflows float
        Tensor lt = at(cpu, logits, n, k), probs = out(cpu, n, k), loss = out(cpu, n);
        double[] p = new double[n * k], lse = new double[n];
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < k; i++) max = Math.max(max, logits[r * k + i]);
            for (int i = 0; i < k; i++) sum += Math.exp(logits[r * k + i] - max);
            for (int i = 0; i < k; i++) p[r * k + i] = Math.exp(logits[r * k + i] - max) / sum;
            lse[r] = max + Math.log(sum);
        }
        cpu.softmax(lt, probs);
        assertClose("softmax", p, cpu.readFloats(probs), 1e-6, 0);
        int[] labels = {0, 4, 2, 3};
        cpu.softmaxCrossEntropyForward(lt, Tensor.ofLabels(cpu, labels), probs, loss);
        double[] refLoss = new double[n];
        for (int r = 0; r < n; r++) refLoss[r] = lse[r] - logits[r * k + labels[r]];
        assertClose("ce probs", p, cpu.readFloats(probs), 1e-6, 0);
        assertClose("ce loss labels", refLoss, cpu.readFloats(loss), 1e-6, 1e-6);
        Tensor d = out(cpu, n, k);
        cpu.softmaxCrossEntropyBackward(probs, Tensor.ofLabels(cpu, labels), 0.25, d);
        double[] refD = new double[n * k];
        for (int i = 0; i < n * k; i++) refD[i] = 0.25 * (p[i] - (labels[i / k] == i % k ? 1 : 0));
        assertClose("ce backward labels", refD, cpu.readFloats(d), 1e-6, 0);
        // soft targets
        float[] t = new float[n * k];
        for (int r = 0; r < n; r++) { t[r * k] = 0.3f; t[r * k + 2] = 0.7f; }
        Tensor tt = at(cpu, t, n, k);
        cpu.softmaxCrossEntropyForward(lt, tt, probs, loss);
        for (int r = 0; r < n; r++) refLoss[r] = lse[r] - 0.3f * logits[r * k] - 0.7f * logits[r * k + 2];
        assertClose("ce loss soft", refLoss, cpu.readFloats(loss), 1e-6, 1e-6);
        cpu.softmaxCrossEntropyBackward(probs, tt, 1, d);
        for (int i = 0; i < n * k; i++) refD[i] = p[i] - t[i];
        assertClose("ce backward soft", refD, cpu.readFloats(d), 1e-6, 0);
    }

    @Test
    void adamAndSgdFollowTorchFormulas() {
        int n = 50;
        for (boolean decoupled : new boolean[]{false, true}) {
            float[] p = random(rng, n), g = random(rng, n), m = random(rng, n), v = new float[n];
            for (int i = 0; i < n; i++) v[i] = Math.abs(g[i]);
            AdamConfig cfg = new AdamConfig(1e-2, 0.9, 0.999, 1e-8, 0.05, decoupled, 3);
            Tensor pt = at(cpu, p, n), mt = at(cpu, m, n), vt = at(cpu, v, n);
            cpu.adamStep(pt, at(cpu, g, n), mt, vt, cfg);
            double[] rp = new double[n], rm = new double[n], rv = new double[n];
            for (int i = 0; i < n; i++) {
                double pi = p[i], gi = g[i];
                if (decoupled) pi *= 1 - 1e-2 * 0.05;
                else gi += 0.05 * pi;
                rm[i] = 0.9 * m[i] + 0.1 * gi;
                rv[i] = 0.999 * v[i] + 0.001 * gi * gi;
                double denom = Math.sqrt(rv[i]) / Math.sqrt(1 - Math.pow(0.999, 3)) + 1e-8;
                rp[i] = pi - 1e-2 / (1 - Math.pow(0.9, 3)) * rm[i] / denom;
            }
            assertClose("adam p " + decoupled, rp, cpu.readFloats(pt), 1e-6, 0);
            assertClose("adam m " + decoupled, rm, cpu.readFloats(mt), 1e-6, 0);
            assertClose("adam v " + decoupled, rv, cpu.readFloats(vt), 1e-6, 0);
        }
        float[] p = random(rng, n), g = random(rng, n), buf = random(rng, n);
        for (boolean first : new boolean[]{true, false}) {
            Tensor pt = at(cpu, p, n), bt = at(cpu, buf, n);
            cpu.sgdStep(pt, at(cpu, g, n), bt, 0.1, 0.9, 0.01, first);
            double[] rp = new double[n], rb = new double[n];
            for (int i = 0; i < n; i++) {
                double d = g[i] + 0.01 * p[i];
                rb[i] = first ? d : 0.9 * buf[i] + d;
                rp[i] = p[i] - 0.1 * rb[i];
            }
            assertClose("sgd p " + first, rp, cpu.readFloats(pt), 1e-6, 0);
            assertClose("sgd buf " + first, rb, cpu.readFloats(bt), 1e-6, 0);
        }
        Tensor pt = at(cpu, p, n);
        cpu.sgdStep(pt, at(cpu, g, n), null, 0.1, 0, 0, true);
        double[] rp = new double[n];
        for (int i = 0; i < n; i++) rp[i] = p[i] - 0.1 * g[i];
        assertClose("sgd plain", rp, cpu.readFloats(pt), 1e-6, 0);
    }
}
