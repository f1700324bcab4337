package dev.kiln.cuda;

import dev.kiln.backend.AdamConfig;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.backend.reference.ReferenceBackend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every op of {@link CudaBackend} against the plain-Java {@link ReferenceBackend}, on the same inputs. It runs twice:
 * on a GPU ({@link CudaConformanceTest}) and on the host emulation of Kiln's kernels
 * ({@link EmulatedCudaConformanceTest}); each is skipped, with the reason, where its backend cannot run.
 */
abstract class CudaConformanceSuite {
    private static final Backend REF = ReferenceBackend.get();

    /**
     * cuDNN may pick FFT or Winograd algorithms, whose float rounding differs from direct summation by more than
     * GEMM's; 5e-3 (absolute and relative) is still far below any indexing or padding error.
     */
    private static final double CONV_TOLERANCE = 5e-3;

    /*
     * The other tolerances, absolute and relative to the float64 reference, go by what an op computes (inputs in
     * [-1, 1] unless a test says otherwise); an indexing or layout error is of order 1 in every case:
     *   0     exact ops: copies, fills, ReLU, max pooling's choice of a window's maximum;
     *   1e-6  one or two float roundings per element (elementwise ops, pooling, softmax, Adam and SGD steps):
     *         float's half-ulp near 1 is 6e-8;
     *   1e-5  sums of up to a few hundred terms (channel sums, batch means, inference batch norm);
     *   1e-4  sums of products, or values divided by a standard deviation (GEMM over k = 53, training batch norm,
     *         a row's cross-entropy over 1000 logits of up to 20);
     *   sum   a million terms, summed in double on the device: 1e-3 absolute on a total of a few hundred.
     */

    private CudaBackend cuda;
    private MemoryScope scope;
    private final SplittableRandom random = new SplittableRandom(42);

    /** The backend under test, or null where it cannot run here. */
    abstract CudaBackend backend();

    /** Why {@link #backend()} is null. */
    abstract String unavailableReason();

    /** Whether cuDNN and cuBLAS themselves run (on a GPU), rather than stand-ins. */
    abstract boolean runsNvidiaLibraries();

    @BeforeEach
    void openScope() {
        cuda = backend();
        // Per test rather than in @BeforeAll, so that every test is reported as skipped, with the reason.
        assumeTrue(cuda != null, this::unavailableReason);
        scope = MemoryScope.open();
    }

    @AfterEach
    void closeScope() {
        if (cuda != null) cuda.synchronize();  // a failure in queued work shows in this test, not the next
        if (scope != null) scope.close();
    }

    // ------------------------------------------------------------------ helpers

    /** The same data on both backends: [0] reference, [1] cuda. */
    private Tensor[] pair(float[] data, int... dims) {
        return new Tensor[] {Tensor.of(REF, data, dims), Tensor.of(cuda, data, dims)};
    }

    private Tensor[] randomPair(int... dims) {
        return pair(randomFloats(Math.toIntExact(Shape.of(dims).numel()), -1, 1), dims);
    }

    private Tensor[] emptyPair(int... dims) {
        return new Tensor[] {Tensor.empty(REF, DType.F32, Shape.of(dims)), Tensor.empty(cuda, DType.F32, Shape.of(dims))};
    }

    private Tensor[] labelPair(int[] labels) {
        return new Tensor[] {Tensor.ofLabels(REF, labels), Tensor.ofLabels(cuda, labels)};
    }

    private float[] randomFloats(int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * random.nextDouble());
        return v;
    }

    /** Fails with the largest difference and the first index out of tolerance (|d| <= atol + rtol * |ref|). */
    private static void assertClose(String what, Tensor expected, Tensor actual, double atol, double rtol) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        double maxDiff = 0;
        int first = -1;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - a[i]);
            if (Double.isNaN(d) && !(Float.isNaN(e[i]) && Float.isNaN(a[i]))) d = Double.POSITIVE_INFINITY;
            if (Double.isNaN(d)) continue;
            maxDiff = Math.max(maxDiff, d);
            if (first < 0 && d > atol + rtol * Math.abs(e[i])) first = i;
        }
        if (first >= 0) {
            fail(what + ": max |difference| " + maxDiff + "; first mismatch at index " + first + ": reference "
                    + e[first] + ", cuda " + a[first]);
        }
    }

    private static void assertClose(String what, Tensor[] pair, double tol) {
        assertClose(what, pair[0], pair[1], tol, tol);
    }

    // ------------------------------------------------------------------ memory and elementwise

    @Test
    void writeReadAndFill() {
        Tensor[] x = randomPair(3, 5);
        assertArrayEquals(x[0].toFloatArray(), x[1].toFloatArray());
        Tensor[] f = emptyPair(1000);
        REF.fill(f[0], 2.5);
        cuda.fill(f[1], 2.5);
        assertClose("fill", f, 0);
        Tensor labels = Tensor.ofLabels(cuda, new int[] {3, 1, 4});
        assertArrayEquals(new double[] {3, 1, 4}, labels.toDoubleArray());
        cuda.fill(labels, 7);
        assertArrayEquals(new double[] {7, 7, 7}, labels.toDoubleArray());
        // Integers past 2^24 survive doubles both ways (a float in between would drop their low bits).
        Tensor big = Tensor.empty(cuda, DType.I32, Shape.of(2));
        cuda.write(big, new double[] {16_777_217, -2_000_000_001});
        assertArrayEquals(new double[] {16_777_217, -2_000_000_001}, cuda.readDoubles(big));
    }

    @Test
    void writesInARowEachArriveIntact() {
        // More writes than there are pinned staging buffers, none read back until the end, some large enough to
        // replace a buffer: a buffer refilled before its queued copy ran would give one tensor another's data.
        if (runsNvidiaLibraries()) {
            // Keep a GPU busy for some milliseconds first, so that the copies are still queued while the host
            // refills the buffers. (The host emulation runs nothing until the host waits anyway.)
            Tensor a = Tensor.zeros(cuda, DType.F32, Shape.of(4096, 4096));
            Tensor c = Tensor.zeros(cuda, DType.F32, Shape.of(4096, 4096));
            for (int i = 0; i < 10; i++) cuda.gemm(false, false, 1.0, a, a, 0.0, c);
        }
        int count = 3 * PinnedUploads.SLOTS + 1;
        float[][] data = new float[count][];
        Tensor[] tensors = new Tensor[count];
        for (int i = 0; i < count; i++) {
            data[i] = randomFloats(i % 3 == 2 ? 300_000 + 1000 * i : 1000 + i, -1, 1);
            tensors[i] = Tensor.of(cuda, data[i], data[i].length);
        }
        Tensor labels = Tensor.ofLabels(cuda, new int[] {5, 4, 3});
        for (int i = 0; i < count; i++) assertArrayEquals(data[i], tensors[i].toFloatArray(), "write " + i);
        assertArrayEquals(new double[] {5, 4, 3}, labels.toDoubleArray());
    }

    @Test
    void elementwiseOps() {
        Tensor[] a = randomPair(1001), b = randomPair(1001), out = emptyPair(1001);
        REF.add(a[0], b[0], out[0]);
        cuda.add(a[1], b[1], out[1]);
        assertClose("add", out, 1e-6);
        REF.mul(a[0], b[0], out[0]);
        cuda.mul(a[1], b[1], out[1]);
        assertClose("mul", out, 1e-6);
        REF.scale(a[0], -0.75, out[0]);
        cuda.scale(a[1], -0.75, out[1]);
        assertClose("scale", out, 1e-6);
        REF.axpy(0.3, a[0], b[0]);
        cuda.axpy(0.3, a[1], b[1]);
        assertClose("axpy", b, 1e-6);
    }

    @Test
    void reluForwardAndBackward() {
        float[] data = randomFloats(777, -1, 1);
        data[0] = 0f;  // the gradient at exactly 0 is 0
        Tensor[] x = pair(data, 777), y = emptyPair(777), dy = randomPair(777), dx = emptyPair(777);
        REF.reluForward(x[0], y[0]);
        cuda.reluForward(x[1], y[1]);
        assertClose("relu", y, 0);
        REF.reluBackward(y[0], dy[0], dx[0]);
        cuda.reluBackward(y[1], dy[1], dx[1]);
        assertClose("relu backward", dx, 0);
    }

    @Test
    void sumOfAMillionElements() {
        Tensor[] x = randomPair(1_000_003), out = emptyPair(1);
        REF.sum(x[0], out[0]);
        cuda.sum(x[1], out[1]);
        assertClose("sum", out[0], out[1], 1e-3, 1e-5);
    }

    @Test
    void copyOfViewsWithConversion() {
        Tensor[] x = randomPair(4, 6);
        Tensor[] t = {x[0].transpose(0, 1), x[1].transpose(0, 1)};
        Tensor[] out = emptyPair(6, 4);
        REF.copy(t[0], out[0]);
        cuda.copy(t[1], out[1]);
        assertClose("transposed copy", out, 0);
        Tensor[] narrow = {x[0].narrow(1, 2, 3), x[1].narrow(1, 2, 3)};
        Tensor[] out2 = emptyPair(4, 3);
        REF.copy(narrow[0], out2[0]);
        cuda.copy(narrow[1], out2[1]);
        assertClose("narrowed copy", out2, 0);
        Tensor ints = Tensor.empty(cuda, DType.I32, Shape.of(4, 6));
        cuda.copy(Tensor.of(cuda, new float[] {1.9f, -2.5f, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, 4, 6), ints);
        assertEquals(1.0, ints.toDoubleArray()[0]);
        assertEquals(-2.0, ints.toDoubleArray()[1], "float to int truncates toward zero, as Java's cast");
    }

    @Test
    void dropoutMaskStatistics() {
        Tensor a = Tensor.empty(cuda, DType.F32, Shape.of(200_000));
        Tensor b = Tensor.empty(cuda, DType.F32, Shape.of(200_000));
        cuda.dropoutMask(a, 0.3, 1234);
        cuda.dropoutMask(b, 0.3, 1234);
        float[] m = a.toFloatArray();
        assertArrayEquals(m, b.toFloatArray(), "same seed, same mask");
        int zeros = 0;
        for (float v : m) {
            if (v == 0f) zeros++;
            else assertEquals(1 / 0.7f, v, 1e-6);
        }
        assertEquals(0.3, zeros / (double) m.length, 0.01);
        cuda.dropoutMask(b, 0.3, 1235);
        assertFalse(java.util.Arrays.equals(m, b.toFloatArray()), "another seed, another mask");
    }

    // ------------------------------------------------------------------ dense algebra

    @Test
    void gemmWithEveryTransposeCombination() {
        int m = 37, k = 53, n = 29;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Tensor[] a = ta ? randomPair(k, m) : randomPair(m, k);
                Tensor[] b = tb ? randomPair(n, k) : randomPair(k, n);
                Tensor[] c = randomPair(m, n);
                REF.gemm(ta, tb, 0.5, a[0], b[0], 0.25, c[0]);
                cuda.gemm(ta, tb, 0.5, a[1], b[1], 0.25, c[1]);
                assertClose("gemm transA=" + ta + " transB=" + tb, c, 1e-4);
            }
        }
    }

    @Test
    void channelBiasAndSum() {
        for (int[] dims : new int[][] {{4, 6, 5, 7}, {8, 10}}) {
            Tensor[] y = randomPair(dims), bias = randomPair(dims[1]), out = emptyPair(dims[1]);
            REF.addChannelBias(y[0], bias[0]);
            cuda.addChannelBias(y[1], bias[1]);
            assertClose("addChannelBias " + Shape.of(dims), y, 1e-6);
            REF.channelSum(y[0], out[0]);
            cuda.channelSum(y[1], out[1]);
            assertClose("channelSum " + Shape.of(dims), out, 1e-5);
        }
    }

    // ------------------------------------------------------------------ convolution

    @Test
    void convolutionForwardAndBackward() {
        int[][] cases = {  // N, C, H, W, K, R, S, stride, pad
                {2, 3, 17, 19, 8, 3, 3, 1, 1},
                {2, 8, 15, 15, 16, 3, 3, 2, 1},
                {2, 16, 8, 8, 32, 1, 1, 2, 0},
                {1, 3, 32, 32, 8, 7, 7, 2, 3}};
        for (int[] c : cases) {
            Conv2dSpec spec = Conv2dSpec.of(c[7], c[8]);
            int p = spec.outH(c[2], c[5]), q = spec.outW(c[3], c[6]);
            String name = "conv " + java.util.Arrays.toString(c);
            Tensor[] x = randomPair(c[0], c[1], c[2], c[3]), w = randomPair(c[4], c[1], c[5], c[6]);
            Tensor[] bias = randomPair(c[4]), y = emptyPair(c[0], c[4], p, q);
            REF.conv2dForward(x[0], w[0], bias[0], y[0], spec);
            cuda.conv2dForward(x[1], w[1], bias[1], y[1], spec);
            assertClose(name + " forward", y, CONV_TOLERANCE);

            Tensor[] dy = randomPair(c[0], c[4], p, q), dx = emptyPair(c[0], c[1], c[2], c[3]);
            REF.conv2dBackwardData(dy[0], w[0], dx[0], spec);
            cuda.conv2dBackwardData(dy[1], w[1], dx[1], spec);
            assertClose(name + " backward data", dx, CONV_TOLERANCE);

            Tensor[] dw = emptyPair(c[4], c[1], c[5], c[6]);
            REF.conv2dBackwardFilter(x[0], dy[0], dw[0], spec);
            cuda.conv2dBackwardFilter(x[1], dy[1], dw[1], spec);
            assertClose(name + " backward filter", dw, CONV_TOLERANCE);
        }
    }

    @Test
    void convolutionAlgorithmIsChosenOncePerShape() {
        assumeTrue(runsNvidiaLibraries(), "cuDNN's algorithm search runs only on a GPU");
        Conv2dSpec spec = Conv2dSpec.of(1, 1);
        Tensor x = Tensor.zeros(cuda, DType.F32, Shape.of(2, 4, 9, 9));
        Tensor w = Tensor.zeros(cuda, DType.F32, Shape.of(5, 4, 3, 3));
        Tensor y = Tensor.empty(cuda, DType.F32, Shape.of(2, 5, 9, 9));
        cuda.conv2dForward(x, w, null, y, spec);
        int chosen = cuda.convolutionAlgorithmsChosen();
        long mallocs = cuda.deviceAllocations();
        for (int i = 0; i < 3; i++) cuda.conv2dForward(x, w, null, y, spec);
        assertEquals(chosen, cuda.convolutionAlgorithmsChosen());
        assertEquals(mallocs, cuda.deviceAllocations(), "repeated convolutions must reuse cached workspace");
    }

    // ------------------------------------------------------------------ batch normalization

    @Test
    void batchNormTrainingUpdatesRunningStatisticsLikePyTorch() {
        for (int[] dims : new int[][] {{4, 6, 5, 5}, {16, 10}}) {
            int ch = dims[1];
            String name = "batch norm " + Shape.of(dims);
            Tensor[] x = pair(randomFloats(Math.toIntExact(Shape.of(dims).numel()), -2, 3), dims);
            Tensor[] gamma = randomPair(ch), beta = randomPair(ch), y = emptyPair(dims);
            Tensor[] rm = randomPair(ch), rv = pair(randomFloats(ch, 0.5, 2), ch);
            Tensor[] sm = emptyPair(ch), si = emptyPair(ch);
            REF.batchNormForwardTraining(x[0], gamma[0], beta[0], y[0], rm[0], rv[0], 0.1, 1e-5, sm[0], si[0]);
            cuda.batchNormForwardTraining(x[1], gamma[1], beta[1], y[1], rm[1], rv[1], 0.1, 1e-5, sm[1], si[1]);
            assertClose(name + " y", y, 1e-4);
            assertClose(name + " saveMean", sm, 1e-5);
            assertClose(name + " saveInvStd", si, 1e-4);
            assertClose(name + " runningMean", rm, 1e-5);
            assertClose(name + " runningVar (unbiased)", rv, 1e-4);

            Tensor[] dy = randomPair(dims), dx = emptyPair(dims), dg = emptyPair(ch), db = emptyPair(ch);
            REF.batchNormBackward(x[0], dy[0], gamma[0], sm[0], si[0], dx[0], dg[0], db[0]);
            cuda.batchNormBackward(x[1], dy[1], gamma[1], sm[1], si[1], dx[1], dg[1], db[1]);
            assertClose(name + " dx", dx, 1e-4);
            assertClose(name + " dgamma", dg, 1e-4);
            assertClose(name + " dbeta", db, 1e-4);
            cuda.batchNormBackward(x[1], dy[1], gamma[1], sm[1], si[1], null, dg[1], null);  // nullable outputs
            assertClose(name + " dgamma alone", dg, 1e-4);
        }
    }

    @Test
    void batchNormInferenceForwardAndBackward() {
        int[] dims = {3, 5, 4, 6};
        Tensor[] x = randomPair(dims), gamma = randomPair(5), beta = randomPair(5), mean = randomPair(5);
        Tensor[] var = pair(randomFloats(5, 0.5, 2), 5), y = emptyPair(dims);
        REF.batchNormForwardInference(x[0], gamma[0], beta[0], mean[0], var[0], 1e-3, y[0]);
        cuda.batchNormForwardInference(x[1], gamma[1], beta[1], mean[1], var[1], 1e-3, y[1]);
        assertClose("bn inference y", y, 1e-5);
        Tensor[] dy = randomPair(dims), dx = emptyPair(dims), dg = emptyPair(5), db = emptyPair(5);
        REF.batchNormBackwardInference(x[0], dy[0], gamma[0], mean[0], var[0], 1e-3, dx[0], dg[0], db[0]);
        cuda.batchNormBackwardInference(x[1], dy[1], gamma[1], mean[1], var[1], 1e-3, dx[1], dg[1], db[1]);
        assertClose("bn inference dx", dx, 1e-5);
        assertClose("bn inference dgamma", dg, 1e-4);
        assertClose("bn inference dbeta", db, 1e-4);
    }

    // ------------------------------------------------------------------ pooling

    @Test
    void maxPoolingWithTiesPaddingAndCeilMode() {
        Pool2dSpec[] specs = {new Pool2dSpec(3, 2, 1, false), new Pool2dSpec(3, 2, 1, true),
                new Pool2dSpec(2, 2, 0, true), new Pool2dSpec(3, 3, 0, true), new Pool2dSpec(2, 1, 1, false)};
        for (int[] dims : new int[][] {{2, 3, 9, 9}, {1, 2, 8, 11}}) {
            int n = Math.toIntExact(Shape.of(dims).numel());
            // Small integers after a ReLU: many ties, many zeros, as after conv-bn-relu.
            float[] data = new float[n];
            for (int i = 0; i < n; i++) data[i] = Math.max(0, random.nextInt(-3, 4));
            Tensor[] x = pair(data, dims);
            for (Pool2dSpec spec : specs) {
                String name = "max pool " + Shape.of(dims) + " " + spec;
                int oh = spec.outSize(dims[2]), ow = spec.outSize(dims[3]);
                Tensor[] y = emptyPair(dims[0], dims[1], oh, ow);
                REF.maxPool2dForward(x[0], y[0], spec);
                cuda.maxPool2dForward(x[1], y[1], spec);
                assertClose(name + " forward", y, 0);
                Tensor[] dy = randomPair(dims[0], dims[1], oh, ow), dx = emptyPair(dims);
                REF.maxPool2dBackward(x[0], y[0], dy[0], dx[0], spec);
                cuda.maxPool2dBackward(x[1], y[1], dy[1], dx[1], spec);
                assertClose(name + " backward (first maximum wins ties)", dx, 1e-6);
            }
        }
    }

    @Test
    void maxPoolRoutesAWindowsGradientToItsLastNaN() {
        // Two 2x2 windows (stride 2): the first holds NaNs at its 1st and 4th element. PyTorch's CPU kernel, the
        // reference and the CPU backend let a NaN replace the best so far, so the later NaN (index 5) gets dy.
        float nan = Float.NaN;
        Tensor[] x = pair(new float[]{nan, 1, 5, 2, 0, nan, 3, 4}, 1, 1, 2, 4);
        Tensor[] dy = pair(new float[]{10, 20}, 1, 1, 1, 2), y = emptyPair(1, 1, 1, 2), dx = emptyPair(1, 1, 2, 4);
        Pool2dSpec spec = new Pool2dSpec(2, 2, 0, false);
        REF.maxPool2dForward(x[0], y[0], spec);
        cuda.maxPool2dForward(x[1], y[1], spec);
        REF.maxPool2dBackward(x[0], y[0], dy[0], dx[0], spec);
        cuda.maxPool2dBackward(x[1], y[1], dy[1], dx[1], spec);
        assertClose("max pool backward with two NaNs in a window", dx, 0);
    }

    @Test
    void globalAveragePooling() {
        Tensor[] x = randomPair(3, 7, 5, 9), y = emptyPair(3, 7), dx = emptyPair(3, 7, 5, 9);
        REF.globalAvgPoolForward(x[0], y[0]);
        cuda.globalAvgPoolForward(x[1], y[1]);
        assertClose("global avg pool", y, 1e-6);
        REF.globalAvgPoolBackward(y[0], dx[0]);
        cuda.globalAvgPoolBackward(y[1], dx[1]);
        assertClose("global avg pool backward", dx, 1e-6);
    }

    // ------------------------------------------------------------------ softmax and loss

    @Test
    void softmaxAndCrossEntropy() {
        int rows = 9, classes = 1000;
        Tensor[] logits = pair(randomFloats(rows * classes, -20, 20), rows, classes), probs = emptyPair(rows, classes);
        REF.softmax(logits[0], probs[0]);
        cuda.softmax(logits[1], probs[1]);
        assertClose("softmax", probs, 1e-6);

        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) labels[i] = random.nextInt(classes);
        Tensor[][] targets = {labelPair(labels), pair(softmaxOf(randomFloats(rows * classes, -1, 1), classes), rows, classes)};
        for (Tensor[] t : targets) {
            String name = "cross-entropy with " + t[0].dtype() + " targets";
            Tensor[] loss = emptyPair(rows), dl = emptyPair(rows, classes);
            REF.softmaxCrossEntropyForward(logits[0], t[0], probs[0], loss[0]);
            cuda.softmaxCrossEntropyForward(logits[1], t[1], probs[1], loss[1]);
            assertClose(name + " probs", probs, 1e-6);
            assertClose(name + " row loss", loss[0], loss[1], 1e-4, 1e-5);
            REF.softmaxCrossEntropyBackward(probs[0], t[0], 1.0 / rows, dl[0]);
            cuda.softmaxCrossEntropyBackward(probs[1], t[1], 1.0 / rows, dl[1]);
            assertClose(name + " dlogits", dl, 1e-6);
        }
    }

    private static float[] softmaxOf(float[] v, int k) {
        float[] out = new float[v.length];
        for (int r = 0; r < v.length / k; r++) {
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.exp(v[r * k + j]);
            for (int j = 0; j < k; j++) out[r * k + j] = (float) (Math.exp(v[r * k + j]) / sum);
        }
        return out;
    }

    // ------------------------------------------------------------------ optimizers

    @Test
    void adamAndAdamW() {
        for (boolean decoupled : new boolean[] {false, true}) {
            Tensor[] p = randomPair(513), g = randomPair(513), m = randomPair(513);
            Tensor[] v = pair(randomFloats(513, 0, 0.01), 513);
            for (long step = 1; step <= 3; step++) {
                AdamConfig config = new AdamConfig(1e-3, 0.9, 0.999, 1e-8, 0.01, decoupled, step);
                REF.adamStep(p[0], g[0], m[0], v[0], config);
                cuda.adamStep(p[1], g[1], m[1], v[1], config);
            }
            String name = decoupled ? "AdamW" : "Adam";
            assertClose(name + " param", p, 1e-6);
            assertClose(name + " m", m, 1e-6);
            assertClose(name + " v", v, 1e-6);
        }
    }

    @Test
    void sgdWithAndWithoutMomentum() {
        Tensor[] p = randomPair(300), g = randomPair(300), buf = emptyPair(300);
        for (int step = 0; step < 3; step++) {
            REF.sgdStep(p[0], g[0], buf[0], 0.1, 0.9, 1e-4, step == 0);
            cuda.sgdStep(p[1], g[1], buf[1], 0.1, 0.9, 1e-4, step == 0);
        }
        assertClose("sgd momentum param", p, 1e-6);
        assertClose("sgd momentum buffer", buf, 1e-6);
        REF.sgdStep(p[0], g[0], null, 0.05, 0, 0, true);
        cuda.sgdStep(p[1], g[1], null, 0.05, 0, 0, true);
        assertClose("sgd plain", p, 1e-6);
    }

    // ------------------------------------------------------------------ memory discipline and errors

    @Test
    void aRepeatedStepStopsCallingCudaMalloc() {
        Runnable step = () -> {
            try (MemoryScope s = MemoryScope.open()) {
                Tensor x = Tensor.zeros(cuda, DType.F32, Shape.of(4, 8, 16, 16));
                Tensor w = Tensor.zeros(cuda, DType.F32, Shape.of(8, 8, 3, 3));
                Tensor y = Tensor.empty(cuda, DType.F32, Shape.of(4, 8, 16, 16));
                cuda.conv2dForward(x, w, null, y, Conv2dSpec.of(1, 1));
                Tensor dx = Tensor.emptyLike(x);
                cuda.conv2dBackwardData(y, w, dx, Conv2dSpec.of(1, 1));
                Tensor out = Tensor.empty(cuda, DType.F32, Shape.of(1));
                cuda.sum(dx, out);
                out.item();
            }
        };
        step.run();
        long mallocs = cuda.deviceAllocations();
        long inUse = cuda.bytesInUse();
        for (int i = 0; i < 3; i++) step.run();
        assertEquals(mallocs, cuda.deviceAllocations(), "steps after the first must be served from the cache");
        assertEquals(inUse, cuda.bytesInUse(), "a closed scope must give every block back");
    }

    @Test
    void emptyingTheCacheWaitsForQueuedWork() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor x = Tensor.of(cuda, randomFloats(100_000, -1, 1), 100_000);
            Tensor out = Tensor.empty(cuda, DType.F32, Shape.of(100_000));
            cuda.add(x, x, out);
        }
        // Both blocks are back in the cache while the add may still be queued: they go back to the driver only
        // after the device is done with them.
        cuda.emptyCache();
        assertEquals(0, cuda.bytesCached());
    }

    @Test
    void clearErrorsForWrongDtypeOrBackend() {
        IllegalArgumentException f64 = assertThrows(IllegalArgumentException.class, () -> cuda.allocate(DType.F64, 4));
        assertTrue(f64.getMessage().contains("F64"), f64.getMessage());
        Tensor onRef = Tensor.zeros(REF, DType.F32, Shape.of(4));
        Tensor onGpu = Tensor.zeros(cuda, DType.F32, Shape.of(4));
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> cuda.add(onRef, onGpu, onGpu));
        assertTrue(wrong.getMessage().contains("reference"), wrong.getMessage());
        // A label past the last class fails as on the CPU, instead of a NaN loss.
        Tensor logits = Tensor.zeros(cuda, DType.F32, Shape.of(2, 3));
        Tensor probs = Tensor.zeros(cuda, DType.F32, Shape.of(2, 3));
        Tensor rowLoss = Tensor.zeros(cuda, DType.F32, Shape.of(2));
        Tensor labels = Tensor.ofLabels(cuda, new int[] {2, 3});
        IndexOutOfBoundsException label = assertThrows(IndexOutOfBoundsException.class,
                () -> cuda.softmaxCrossEntropyForward(logits, labels, probs, rowLoss));
        assertTrue(label.getMessage().contains("target 3 of row 1"), label.getMessage());
    }

    // ------------------------------------------------------------------ empty dimensions

    /**
     * Zero-sized inputs behave as on the CPU and the reference backend instead of reaching cuDNN or cuBLAS, which
     * reject (or do not document) zero dimensions: a GEMM with k = 0 leaves beta * c, a convolution over zero
     * channels gives its bias, a gradient through zero filters is zero, an empty batch normalizes nothing and
     * contributes zero parameter gradients.
     */
    @Test
    void emptyDimensionsBehaveAsOnTheReference() {
        Tensor[] a = emptyPair(3, 0), b = emptyPair(0, 4), c = randomPair(3, 4);
        REF.gemm(false, false, 1.0, a[0], b[0], 0.5, c[0]);
        cuda.gemm(false, false, 1.0, a[1], b[1], 0.5, c[1]);
        assertClose("gemm k=0, beta 0.5", c, 1e-6);
        Conv2dSpec spec = Conv2dSpec.of(1, 1);
        Tensor[] x = emptyPair(2, 0, 5, 5), w = emptyPair(4, 0, 3, 3), bias = randomPair(4), y = emptyPair(2, 4, 5, 5);
        REF.conv2dForward(x[0], w[0], bias[0], y[0], spec);
        cuda.conv2dForward(x[1], w[1], bias[1], y[1], spec);
        assertClose("conv over zero channels", y, 1e-6);
        Tensor[] dy = emptyPair(2, 0, 5, 5), w2 = emptyPair(0, 3, 3, 3), dx = emptyPair(2, 3, 5, 5);
        REF.conv2dBackwardData(dy[0], w2[0], dx[0], spec);
        cuda.conv2dBackwardData(dy[1], w2[1], dx[1], spec);
        assertClose("conv backward data through zero filters", dx, 1e-6);
        Tensor[] xb = emptyPair(0, 3, 4, 4), gamma = randomPair(3), beta = randomPair(3), mean = randomPair(3);
        Tensor[] var = pair(new float[] {0.5f, 1f, 2f}, 3), yb = emptyPair(0, 3, 4, 4);
        cuda.batchNormForwardInference(xb[1], gamma[1], beta[1], mean[1], var[1], 1e-5, yb[1]);
        Tensor[] dg = emptyPair(3), db = emptyPair(3);
        REF.batchNormBackward(xb[0], yb[0], gamma[0], mean[0], var[0], emptyPair(0, 3, 4, 4)[0], dg[0], db[0]);
        cuda.batchNormBackward(xb[1], yb[1], gamma[1], mean[1], var[1], emptyPair(0, 3, 4, 4)[1], dg[1], db[1]);
        assertClose("batch norm dgamma over an empty batch", dg, 0);
        assertClose("batch norm dbeta over an empty batch", db, 0);
    }
}
