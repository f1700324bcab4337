package dev.kiln.backend.cpu;

import dev.kiln.backend.AdamConfig;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.backend.reference.ReferenceBackend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dev.kiln.backend.cpu.TestTensors.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every CpuBackend kernel against {@link ReferenceBackend} (float64 loops) on the same random float32 inputs. CPU
 * tensors start at a storage offset and outputs are pre-filled with NaN (see {@link TestTensors}).
 *
 * <p>Tolerances, relative to max|reference| of each output: GEMM and convolutions 1e-5 (float32 sums of up to a
 * few thousand products, in OpenBLAS's order); batch norm 1e-5 (dx 1e-4: it subtracts two channel means);
 * elementwise, softmax, pooling and optimizers 1e-6 (one or two float roundings).
 */
class CpuBackendConformanceTest {
    private static final double CONV_TOL = 1e-5, BN_TOL = 1e-5, BN_DX_TOL = 1e-4, ELEMENT_TOL = 1e-6;

    private final CpuBackend cpu = CpuBackend.get();
    private final ReferenceBackend ref = ReferenceBackend.get();
    private final Random rng = new Random(1234);

    /** The same values on both backends: cpu in float32 at an offset, reference in float64. */
    private record Pair(Tensor cpu, Tensor ref, float[] data) {
    }

    private Pair pair(float[] data, int... dims) {
        Tensor r = Tensor.of(ref, TestTensors.toDouble(data), dims);
        return new Pair(TestTensors.at(cpu, data, dims), r, data);
    }

    private Pair random(int... dims) {
        return pair(TestTensors.random(rng, (int) Shape.of(dims).numel()), dims);
    }

    private Pair output(int... dims) {
        return new Pair(TestTensors.out(cpu, dims), Tensor.zeros(ref, DType.F64, Shape.of(dims)), null);
    }

    private void check(String what, Pair p, double rel) {
        assertClose(what, ref.readDoubles(p.ref), cpu.readFloats(p.cpu), rel, 0);
    }

    // ------------------------------------------------------------------ convolution

    /** n, c, h, w, k, r, s, strideH, strideW, padH, padW. */
    static final int[][] CONV_CASES = {
            {2, 8, 24, 24, 16, 1, 1, 1, 1, 0, 0},    // 1x1 on a large image: direct GEMM, no im2col
            {2, 32, 14, 14, 64, 1, 1, 1, 1, 0, 0},   // bottleneck 1x1 on 14x14: one GEMM per image, no copies
            {2, 32, 14, 14, 64, 1, 1, 2, 2, 0, 0},   // downsample 1x1 stride 2
            {2, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1},   // 3x3
            {2, 16, 15, 15, 24, 3, 3, 2, 2, 1, 1},   // 3x3 stride 2, odd size
            {2, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3},    // stem 7x7 stride 2
            {4, 32, 7, 7, 32, 3, 3, 1, 1, 1, 1},     // layer4-like: several images per GEMM
            {3, 16, 7, 7, 32, 1, 1, 1, 1, 0, 0},     // 1x1 on 7x7: grouped, not direct
            {1, 5, 9, 13, 7, 3, 5, 2, 1, 1, 2},      // rectangular everything
            {3, 4, 24, 24, 6, 3, 3, 1, 1, 0, 0},     // no padding, one image per GEMM
            {13, 8, 10, 10, 12, 1, 1, 1, 1, 0, 0},   // grouped 1x1, 13 images in groups of 10 + 3
            {7, 6, 14, 14, 8, 3, 3, 1, 1, 1, 1},     // grouped 3x3, partial last group
            {6, 8, 13, 13, 12, 1, 1, 2, 2, 0, 0},    // 1x1 stride 2 on an odd size (7x7 out)
            {3, 2, 11, 11, 4, 5, 5, 2, 2, 2, 2},     // 5x5 stride 2: several zero-padded edges per row
            {2, 3, 10, 9, 4, 2, 2, 2, 2, 0, 0},      // 2x2 stride 2: no garbage columns
            {2, 4, 11, 10, 5, 3, 3, 3, 3, 1, 1},     // stride 3: nine phases
            {2, 3, 10, 10, 4, 3, 3, 2, 2, 0, 0},     // the last input row and column are never read
            {2, 2, 8, 8, 3, 1, 1, 3, 3, 0, 0},       // 1x1 stride 3: most pixels unread
    };

    /**
     * Stride-1 cases for the shifted-GEMM formulation (forward and backward-data), which runs on them whether or
     * not it would pay.
     */
    static final int[][] SHIFTED_CASES = {
            {2, 8, 30, 30, 12, 3, 3, 1, 1, 1, 1},    // 3x3 pad 1 at 30x30: one image per GEMM
            {5, 6, 20, 20, 4, 3, 3, 1, 1, 1, 1},     // images stacked per GEMM, partial last group
            {2, 5, 18, 26, 7, 3, 5, 1, 1, 1, 2},     // rectangular kernel and image
            {3, 4, 21, 19, 6, 3, 3, 1, 1, 1, 0},     // padding on one axis only
            {2, 3, 24, 24, 5, 5, 5, 1, 1, 2, 2},     // 5x5 pad 2
            {4, 16, 7, 7, 8, 3, 3, 1, 1, 1, 1},      // 7x7: all images in one GEMM
    };

    /**
     * Stride-1 cases for Kiln's own kernels (forward, backward-data and backward-filter), which run on them whether
     * or not they would pay: output channels that do not fill a block of 8, grids shorter than one 48-position
     * tile, a last tile cut short by the end of the input (1x1, read in place), cache blocks of the grid (300
     * channels), one image split by output channels between threads.
     */
    static final int[][] DIRECT_CASES = {
            {2, 8, 30, 30, 12, 3, 3, 1, 1, 1, 1},    // 3x3 pad 1, 12 channels: one full and one partial block
            {1, 16, 20, 20, 24, 3, 3, 1, 1, 1, 1},   // one image: output-channel blocks split between threads
            {3, 5, 4, 4, 7, 3, 3, 1, 1, 1, 1},       // a 6x6 grid: one tile, mostly masked
            {2, 5, 18, 26, 7, 3, 5, 1, 1, 1, 2},     // rectangular kernel and image
            {3, 4, 21, 19, 6, 3, 3, 1, 1, 1, 0},     // padding on one axis only
            {2, 3, 24, 24, 5, 5, 5, 1, 1, 2, 2},     // 5x5 pad 2
            {2, 6, 17, 13, 9, 1, 1, 1, 1, 0, 0},     // 1x1 read in place; the last tile stops at the input's end
            {2, 300, 20, 20, 16, 1, 1, 1, 1, 0, 0},  // 300 input channels: the grid runs in cache blocks
            {2, 4, 9, 9, 8, 3, 3, 1, 1, 0, 0},       // no padding: a 3x3 read in place
    };

    /**
     * Strided cases for Kiln's own kernels (through phase planes), in all three directions: backward-data by phases
     * of dx, some of which no tap reaches (1x1 at stride 2: three in four pixels of dx are zeros).
     */
    static final int[][] DIRECT_STRIDED_CASES = {
            {2, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3},    // the stem: 7x7 stride 2 pad 3
            {2, 8, 16, 16, 12, 3, 3, 2, 2, 1, 1},    // 3x3 stride 2 pad 1
            {1, 6, 15, 17, 9, 3, 3, 2, 2, 1, 1},     // odd sizes, one image
            {3, 10, 14, 14, 16, 1, 1, 2, 2, 0, 0},   // 1x1 stride 2: one phase of four
            {2, 4, 11, 10, 5, 3, 3, 3, 3, 1, 1},     // stride 3: nine phases
            {2, 5, 12, 13, 6, 3, 5, 2, 1, 1, 2},     // stride 2 by 1, rectangular kernel
            {2, 3, 11, 11, 4, 5, 5, 2, 2, 2, 2},     // 5x5 stride 2
            {2, 3, 10, 9, 4, 2, 2, 2, 2, 0, 0},      // 2x2 stride 2: phases without overlap
    };

    @Test
    void convolutionsMatchReference() {
        for (String formulation : new String[]{"auto", "shifted", "im2col"}) {
            CpuConvolution conv = CpuBackend.convolution(formulation);
            for (int[] c : CONV_CASES) {
                checkConvolution(conv::forward, conv::backwardData, conv::backwardFilter, c, formulation + " ");
            }
            conv.releaseWorkspaces();
        }
    }

    @Test
    void directConvolutionsMatchReference() {
        assumeTrue(DirectConvolution.available(), "Kiln's native convolution kernel is not loaded here");
        for (int[] c : concat(DIRECT_CASES, DIRECT_STRIDED_CASES)) {
            // Backward-filter runs once with all images in one group, once an image at a time (the groups' sums
            // added in dw).
            for (long groupFloats : new long[]{1 << 20, 1}) {
                DirectConvolution conv = new DirectConvolution(groupFloats);
                checkConvolution((x, w, b, y, sp) -> conv.forward(x, w, b, y, sp, null), conv::backwardData,
                        conv::backwardFilter, c, "direct " + groupFloats + " ");
                conv.releaseWorkspaces();
            }
        }
    }

    @Test
    void shiftedGemmConvolutionsMatchReference() {
        for (int[] c : SHIFTED_CASES) {
            Conv2dSpec spec = new Conv2dSpec(c[7], c[8], c[9], c[10]);
            assertTrue(ShiftedGemmConvolution.applies(c[2], c[3], c[5], c[6], spec), Arrays.toString(c));
            ShiftedGemmConvolution conv = new ShiftedGemmConvolution();
            // Backward-filter always runs through im2col, checked with the other cases.
            checkConvolution((x, w, b, y, sp) -> {
                conv.forward(x, w, y, sp, null);
                if (b != null) CpuElementwise.addChannelBias(y, b);
            }, conv::backwardData, null, c, "shifted ");
            conv.releaseWorkspaces();
        }
    }

    private interface ConvForward {
        void run(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec);
    }

    private interface ConvBackward {
        /** backwardData(dy, w, dx) or backwardFilter(x, dy, dw). */
        void run(Tensor a, Tensor b, Tensor out, Conv2dSpec spec);
    }

    /** Checks the three directions of case c against the reference; null backward passes are not checked. */
    private void checkConvolution(ConvForward forward, ConvBackward backwardData, ConvBackward backwardFilter,
                                  int[] c, String formulation) {
        boolean bias = (c[0] + c[1] + c[4]) % 2 == 0;
        Conv2dSpec spec = new Conv2dSpec(c[7], c[8], c[9], c[10]);
        int p = spec.outH(c[2], c[5]), q = spec.outW(c[3], c[6]);
        String name = formulation + Arrays.toString(c) + (bias ? " with bias" : "");
        Pair x = random(c[0], c[1], c[2], c[3]), w = random(c[4], c[1], c[5], c[6]);
        Pair b = bias ? random(c[4]) : null, dy = random(c[0], c[4], p, q);
        Pair y = output(c[0], c[4], p, q), dx = output(c[0], c[1], c[2], c[3]), dw = output(c[4], c[1], c[5], c[6]);

        forward.run(x.cpu, w.cpu, bias ? b.cpu : null, y.cpu, spec);
        ref.conv2dForward(x.ref, w.ref, bias ? b.ref : null, y.ref, spec);
        check("conv forward " + name, y, CONV_TOL);
        if (backwardData == null) return;
        backwardData.run(dy.cpu, w.cpu, dx.cpu, spec);
        ref.conv2dBackwardData(dy.ref, w.ref, dx.ref, spec);
        check("conv backward data " + name, dx, CONV_TOL);
        if (backwardFilter == null) return;
        backwardFilter.run(x.cpu, dy.cpu, dw.cpu, spec);
        ref.conv2dBackwardFilter(x.ref, dy.ref, dw.ref, spec);
        check("conv backward filter " + name, dw, CONV_TOL);
    }

    // ------------------------------------------------------------------ dense algebra

    @Test
    void gemmMatchesReference() {
        // m, n, k. With beta = 0, a small m, m < n and k >= n the product runs transposed (CpuGemm): the last three.
        int[][] shapes = {{1, 1, 1}, {7, 5, 3}, {64, 33, 129}, {10, 1000, 2}, {16, 40, 300}, {3, 8, 8}, {64, 65, 65}};
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int m = s[0], n = s[1], k = s[2];
                Pair a = ta ? random(k, m) : random(m, k), b = tb ? random(n, k) : random(k, n);
                Pair c0 = random(m, n);
                Pair c = pair(c0.data, m, n);
                cpu.gemm(ta, tb, 0.5, a.cpu, b.cpu, 2.0, c.cpu);
                ref.gemm(ta, tb, 0.5, a.ref, b.ref, 2.0, c.ref);
                check("gemm " + Arrays.toString(s) + " ta=" + ta + " tb=" + tb, c, CONV_TOL);
                Pair z = output(m, n);
                cpu.gemm(ta, tb, 1.0, a.cpu, b.cpu, 0.0, z.cpu);
                ref.gemm(ta, tb, 1.0, a.ref, b.ref, 0.0, z.ref);
                check("gemm beta=0 " + Arrays.toString(s), z, CONV_TOL);
            }
        }
    }

    @Test
    void skinnyGemmsMatchReference() {
        assumeTrue(NativeKernels.AVAILABLE, "Kiln's native kernels are not loaded here");
        // m, n, k of the forward (c = a b^T, m the batch): tails in every dimension, K over two cache blocks.
        checkSkinnyGemms(false, new int[][]{{5, 301, 9000}, {16, 1000, 2048}, {1, 7, 200_000}});
        // m, n, k of the weight gradient (c = a^T b, k the batch): rows not a multiple of 6, columns of 64.
        checkSkinnyGemms(true, new int[][]{{301, 3500, 7}, {1024, 2048, 16}, {5, 300_001, 1}});
    }

    /** c (m, n) = a b^T (a (m, k), b (n, k)), or with transA, a^T b (a (k, m), b (k, n)), through SkinnyGemm. */
    private void checkSkinnyGemms(boolean transA, int[][] shapes) {
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            assertTrue(SkinnyGemm.suits(transA, !transA, 1, 0, m, n, k), Arrays.toString(s));
            Pair a = transA ? random(k, m) : random(m, k), b = transA ? random(k, n) : random(n, k);
            Pair c = output(m, n);
            cpu.gemm(transA, !transA, 1.0, a.cpu, b.cpu, 0.0, c.cpu);
            ref.gemm(transA, !transA, 1.0, a.ref, b.ref, 0.0, c.ref);
            check((transA ? "skinny weight gradient " : "skinny forward ") + Arrays.toString(s), c, CONV_TOL);
        }
    }

    @Test
    void channelBiasAndSumMatchReference() {
        for (int[] dims : new int[][]{{2, 8, 5, 3}, {6, 10}, {3, 64, 7, 7}}) {
            Pair y = random(dims), bias = random(dims[1]), s = output(dims[1]);
            cpu.addChannelBias(y.cpu, bias.cpu);
            ref.addChannelBias(y.ref, bias.ref);
            check("addChannelBias " + Arrays.toString(dims), y, ELEMENT_TOL);
            cpu.channelSum(y.cpu, s.cpu);
            ref.channelSum(y.ref, s.ref);
            check("channelSum " + Arrays.toString(dims), s, ELEMENT_TOL);
        }
    }

    // ------------------------------------------------------------------ elementwise, memory

    @Test
    void elementwiseMatchReference() {
        for (int n : new int[]{1, 17, 70_001}) {
            Pair a = random(n), b = random(n), o = output(n);
            cpu.add(a.cpu, b.cpu, o.cpu);
            ref.add(a.ref, b.ref, o.ref);
            check("add " + n, o, ELEMENT_TOL);
            cpu.mul(a.cpu, b.cpu, o.cpu);
            ref.mul(a.ref, b.ref, o.ref);
            check("mul " + n, o, ELEMENT_TOL);
            cpu.scale(a.cpu, 0.3, o.cpu);
            ref.scale(a.ref, 0.3, o.ref);
            check("scale " + n, o, ELEMENT_TOL);
            cpu.axpy(-1.7, b.cpu, o.cpu);
            ref.axpy(-1.7, b.ref, o.ref);
            check("axpy " + n, o, ELEMENT_TOL);
            cpu.reluForward(a.cpu, o.cpu);
            ref.reluForward(a.ref, o.ref);
            check("relu " + n, o, 0);
            Pair dx = output(n);
            cpu.reluBackward(o.cpu, b.cpu, dx.cpu);
            ref.reluBackward(o.ref, b.ref, dx.ref);
            check("relu backward " + n, dx, 0);
            Pair s = output(1);
            cpu.sum(a.cpu, s.cpu);
            ref.sum(a.ref, s.ref);
            assertClose("sum " + n, ref.readDoubles(s.ref), cpu.readFloats(s.cpu), ELEMENT_TOL, 1e-6);
            cpu.fill(o.cpu, -2.5);
            ref.fill(o.ref, -2.5);
            check("fill " + n, o, 0);
            Pair mask = output(n);
            cpu.dropoutMask(mask.cpu, 0.3, 99);
            ref.dropoutMask(mask.ref, 0.3, 99);
            check("dropoutMask " + n, mask, ELEMENT_TOL);
        }
    }

    @Test
    void stridedCopyMatchesReference() {
        Pair a = random(4, 6, 5);
        Tensor[] srcs = {a.cpu.transpose(0, 2), a.ref.transpose(0, 2)};
        Pair dst = output(5, 6, 4);
        cpu.copy(srcs[0], dst.cpu);
        ref.copy(srcs[1], dst.ref);
        check("copy of a transposed view", dst, 0);
        Tensor cn = a.cpu.narrow(1, 2, 3), rn = a.ref.narrow(1, 2, 3);
        Pair dst2 = output(4, 3, 5);
        Tensor cd = dst2.cpu.transpose(0, 1), rd = dst2.ref.transpose(0, 1);
        Tensor cs = cn.transpose(0, 1), rs = rn.transpose(0, 1);
        cpu.copy(cs, cd);
        ref.copy(rs, rd);
        check("copy narrow -> transposed", dst2, 0);
        Tensor labels = Tensor.ofLabels(cpu, new int[]{5, 0, 2});
        Tensor f = Tensor.empty(cpu, DType.F32, Shape.of(3));
        cpu.copy(labels, f);
        assertArrayEquals(ref.readDoubles(Tensor.ofLabels(ref, new int[]{5, 0, 2})), cpu.readDoubles(f));
    }

    // ------------------------------------------------------------------ batch norm

    /**
     * Runs a batch-norm check through Kiln's native kernels (where they loaded) and through the Java loops, which
     * the backend uses without them.
     */
    private static void withEachBatchNormImplementation(Runnable check) {
        boolean saved = CpuBatchNorm.nativeKernels;
        try {
            for (boolean useNative : NativeKernels.AVAILABLE ? new boolean[]{true, false} : new boolean[]{false}) {
                CpuBatchNorm.nativeKernels = useNative;
                check.run();
            }
        } finally {
            CpuBatchNorm.nativeKernels = saved;
        }
    }

    @Test
    void batchNormMatchesReference() {
        withEachBatchNormImplementation(this::checkBatchNorm);
    }

    private void checkBatchNorm() {
        String impl = CpuBatchNorm.nativeKernels ? "native " : "java ";
        for (int[] dims : new int[][]{{4, 8, 7, 7}, {3, 5, 4, 6}, {16, 12}, {19, 3, 9, 11}}) {
            int c = dims[1];
            String name = impl + Arrays.toString(dims);
            Pair x = random(dims), dy = random(dims), gamma = random(c), beta = random(c);
            float[] shifted = x.data.clone();
            for (int i = 0; i < shifted.length; i++) shifted[i] = shifted[i] * 3 + 5; // nonzero mean
            x = pair(shifted, dims);
            Pair rm = random(c), rv0 = random(c);
            float[] positive = rv0.data.clone();
            for (int i = 0; i < c; i++) positive[i] = Math.abs(positive[i]) + 0.5f;
            Pair rv = pair(positive, c);
            Pair y = output(dims), sm = output(c), si = output(c);
            cpu.batchNormForwardTraining(x.cpu, gamma.cpu, beta.cpu, y.cpu, rm.cpu, rv.cpu, 0.1, 1e-5, sm.cpu, si.cpu);
            ref.batchNormForwardTraining(x.ref, gamma.ref, beta.ref, y.ref, rm.ref, rv.ref, 0.1, 1e-5, sm.ref, si.ref);
            check("bn train y " + name, y, BN_TOL);
            check("bn saveMean " + name, sm, BN_TOL);
            check("bn saveInvStd " + name, si, BN_TOL);
            check("bn running mean " + name, rm, BN_TOL);
            check("bn running var " + name, rv, BN_TOL);

            Pair dx = output(dims), dg = output(c), db = output(c);
            cpu.batchNormBackward(x.cpu, dy.cpu, gamma.cpu, sm.cpu, si.cpu, dx.cpu, dg.cpu, db.cpu);
            ref.batchNormBackward(x.ref, dy.ref, gamma.ref, sm.ref, si.ref, dx.ref, dg.ref, db.ref);
            check("bn dx " + name, dx, BN_DX_TOL);
            check("bn dgamma " + name, dg, BN_TOL);
            check("bn dbeta " + name, db, BN_TOL);

            Pair yi = output(dims);
            cpu.batchNormForwardInference(x.cpu, gamma.cpu, beta.cpu, rm.cpu, rv.cpu, 1e-5, yi.cpu);
            ref.batchNormForwardInference(x.ref, gamma.ref, beta.ref, rm.ref, rv.ref, 1e-5, yi.ref);
            check("bn inference y " + name, yi, BN_TOL);
            cpu.batchNormBackwardInference(x.cpu, dy.cpu, gamma.cpu, rm.cpu, rv.cpu, 1e-5, dx.cpu, dg.cpu, db.cpu);
            ref.batchNormBackwardInference(x.ref, dy.ref, gamma.ref, rm.ref, rv.ref, 1e-5, dx.ref, dg.ref, db.ref);
            check("bn inference dx " + name, dx, BN_TOL);
            check("bn inference dgamma " + name, dg, BN_TOL);
            check("bn inference dbeta " + name, db, BN_TOL);
        }
    }

    /** The fused BN + (residual) + ReLU kernels against the reference backend's default composition. */
    @Test
    void fusedBatchNormReluMatchesReference() {
        withEachBatchNormImplementation(this::checkFusedBatchNormRelu);
    }

    private void checkFusedBatchNormRelu() {
        String impl = CpuBatchNorm.nativeKernels ? "native " : "java ";
        for (int[] dims : new int[][]{{4, 8, 7, 7}, {3, 5, 4, 6}, {18, 2, 5, 13}}) {
            int c = dims[1];
            for (boolean withResidual : new boolean[]{false, true}) {
                String name = impl + Arrays.toString(dims) + (withResidual ? " + residual" : "");
                Pair x = random(dims), dz = random(dims), gamma = random(c), beta = random(c);
                Pair residual = withResidual ? random(dims) : null;
                Pair rm = random(c), rv = pair(positive(c), c);
                Pair z = output(dims), sm = output(c), si = output(c);
                cpu.batchNormReluForwardTraining(x.cpu, gamma.cpu, beta.cpu, withResidual ? residual.cpu : null, z.cpu,
                        rm.cpu, rv.cpu, 0.1, 1e-5, sm.cpu, si.cpu);
                ref.batchNormReluForwardTraining(x.ref, gamma.ref, beta.ref, withResidual ? residual.ref : null, z.ref,
                        rm.ref, rv.ref, 0.1, 1e-5, sm.ref, si.ref);
                check("bn relu train z " + name, z, BN_TOL);
                check("bn relu running var " + name, rv, BN_TOL);

                Pair dx = output(dims), dg = output(c), db = output(c), dr = output(dims);
                cpu.batchNormReluBackward(x.cpu, z.cpu, dz.cpu, gamma.cpu, sm.cpu, si.cpu, dx.cpu, dg.cpu, db.cpu,
                        dr.cpu);
                ref.batchNormReluBackward(x.ref, z.ref, dz.ref, gamma.ref, sm.ref, si.ref, dx.ref, dg.ref, db.ref,
                        dr.ref);
                check("bn relu dresidual " + name, dr, ELEMENT_TOL);
                check("bn relu dx " + name, dx, BN_DX_TOL);
                check("bn relu dgamma " + name, dg, BN_TOL);
                check("bn relu dbeta " + name, db, BN_TOL);

                Pair zi = output(dims);
                cpu.batchNormReluForwardInference(x.cpu, gamma.cpu, beta.cpu, rm.cpu, rv.cpu, 1e-5,
                        withResidual ? residual.cpu : null, zi.cpu);
                ref.batchNormReluForwardInference(x.ref, gamma.ref, beta.ref, rm.ref, rv.ref, 1e-5,
                        withResidual ? residual.ref : null, zi.ref);
                check("bn relu inference z " + name, zi, BN_TOL);
                cpu.batchNormReluBackwardInference(x.cpu, zi.cpu, dz.cpu, gamma.cpu, rm.cpu, rv.cpu, 1e-5, dx.cpu,
                        dg.cpu, db.cpu, null);
                ref.batchNormReluBackwardInference(x.ref, zi.ref, dz.ref, gamma.ref, rm.ref, rv.ref, 1e-5, dx.ref,
                        dg.ref, db.ref, null);
                check("bn relu inference dx " + name, dx, BN_TOL);
                check("bn relu inference dgamma " + name, dg, BN_TOL);
                check("bn relu inference dbeta " + name, db, BN_TOL);
            }
        }
    }

    private float[] positive(int n) {
        float[] v = TestTensors.random(rng, n);
        for (int i = 0; i < n; i++) v[i] = Math.abs(v[i]) + 0.5f;
        return v;
    }

    // ------------------------------------------------------------------ pooling

    @Test
    void maxPoolRoutesAWindowsGradientToItsLastNaN() {
        // Two windows of 2x2 (stride 2): the first holds NaNs at its 1st and 4th element, the second none.
        float nan = Float.NaN;
        float[] data = {nan, 1, 5, 2,
                        0, nan, 3, 4};
        Pool2dSpec spec = new Pool2dSpec(2, 2, 0, false);
        Pair x = pair(data, 1, 1, 2, 4), dy = pair(new float[]{10, 20}, 1, 1, 1, 2);
        Pair y = output(1, 1, 1, 2), dx = output(1, 1, 2, 4);
        cpu.maxPool2dForward(x.cpu, y.cpu, spec);
        float[] yv = cpu.readFloats(y.cpu);
        assertTrue(Float.isNaN(yv[0]) && yv[1] == 5, "max pool with NaN: " + Arrays.toString(yv));
        ref.maxPool2dForward(x.ref, y.ref, spec);
        cpu.maxPool2dBackward(x.cpu, y.cpu, dy.cpu, dx.cpu, spec);
        ref.maxPool2dBackward(x.ref, y.ref, dy.ref, dx.ref, spec);
        // As PyTorch's CPU kernel scans: a NaN replaces the best so far, so the later NaN (index 5) gets it.
        assertArrayEquals(new float[]{0, 0, 20, 0, 0, 10, 0, 0}, cpu.readFloats(dx.cpu));
        check("max pool backward with NaN", dx, 0);
    }

    @Test
    void poolingMatchesReference() {
        Pool2dSpec[] specs = {new Pool2dSpec(3, 2, 1, false), new Pool2dSpec(2, 2, 0, false),
                new Pool2dSpec(3, 2, 0, true), new Pool2dSpec(3, 1, 1, false), new Pool2dSpec(2, 3, 1, true)};
        for (Pool2dSpec spec : specs) {
            for (int[] dims : new int[][]{{2, 3, 9, 9}, {1, 4, 8, 11}, {1, 2, 1, 2}, {1, 2, 2, 5}}) {
                String name = spec + " " + Arrays.toString(dims);
                // Quantized values make ties common, so the first-maximum rule is exercised.
                float[] data = new float[dims[0] * dims[1] * dims[2] * dims[3]];
                for (int i = 0; i < data.length; i++) data[i] = rng.nextInt(4);
                Pair x = pair(data, dims);
                int p = spec.outSize(dims[2]), q = spec.outSize(dims[3]);
                Pair y = output(dims[0], dims[1], p, q), dy = random(dims[0], dims[1], p, q), dx = output(dims);
                cpu.maxPool2dForward(x.cpu, y.cpu, spec);
                ref.maxPool2dForward(x.ref, y.ref, spec);
                check("maxpool " + name, y, 0);
                cpu.maxPool2dBackward(x.cpu, y.cpu, dy.cpu, dx.cpu, spec);
                ref.maxPool2dBackward(x.ref, y.ref, dy.ref, dx.ref, spec);
                check("maxpool backward " + name, dx, ELEMENT_TOL);
            }
        }
        Pair x = random(3, 16, 7, 7), y = output(3, 16), dy = random(3, 16), dx = output(3, 16, 7, 7);
        cpu.globalAvgPoolForward(x.cpu, y.cpu);
        ref.globalAvgPoolForward(x.ref, y.ref);
        check("global avg pool", y, ELEMENT_TOL);
        cpu.globalAvgPoolBackward(dy.cpu, dx.cpu);
        ref.globalAvgPoolBackward(dy.ref, dx.ref);
        check("global avg pool backward", dx, ELEMENT_TOL);
    }

    // ------------------------------------------------------------------ softmax and loss

    @Test
    void softmaxAndCrossEntropyMatchReference() {
        int n = 6, k = 10;
        Pair logits = random(n, k);
        float[] big = logits.data.clone();
        big[3] = 95f; // exp overflows float without the max subtraction
        logits = pair(big, n, k);
        Pair probs = output(n, k), loss = output(n), d = output(n, k);
        cpu.softmax(logits.cpu, probs.cpu);
        ref.softmax(logits.ref, probs.ref);
        check("softmax", probs, ELEMENT_TOL);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.nextInt(k);
        Tensor lc = Tensor.ofLabels(cpu, labels), lr = Tensor.ofLabels(ref, labels);
        cpu.softmaxCrossEntropyForward(logits.cpu, lc, probs.cpu, loss.cpu);
        ref.softmaxCrossEntropyForward(logits.ref, lr, probs.ref, loss.ref);
        check("ce probs (labels)", probs, ELEMENT_TOL);
        check("ce loss (labels)", loss, ELEMENT_TOL);
        cpu.softmaxCrossEntropyBackward(probs.cpu, lc, 1.0 / n, d.cpu);
        ref.softmaxCrossEntropyBackward(probs.ref, lr, 1.0 / n, d.ref);
        check("ce backward (labels)", d, ELEMENT_TOL);
        float[] soft = new float[n * k];
        for (int r = 0; r < n; r++) {
            double total = 0;
            for (int i = 0; i < k; i++) total += soft[r * k + i] = rng.nextFloat();
            for (int i = 0; i < k; i++) soft[r * k + i] /= (float) total;
        }
        Pair t = pair(soft, n, k);
        cpu.softmaxCrossEntropyForward(logits.cpu, t.cpu, probs.cpu, loss.cpu);
        ref.softmaxCrossEntropyForward(logits.ref, t.ref, probs.ref, loss.ref);
        check("ce loss (soft)", loss, ELEMENT_TOL);
        cpu.softmaxCrossEntropyBackward(probs.cpu, t.cpu, 0.5, d.cpu);
        ref.softmaxCrossEntropyBackward(probs.ref, t.ref, 0.5, d.ref);
        check("ce backward (soft)", d, ELEMENT_TOL);
    }

    // ------------------------------------------------------------------ optimizers

    @Test
    void optimizersMatchReferenceOverSeveralSteps() {
        int n = 1000;
        for (boolean decoupled : new boolean[]{false, true}) {
            Pair p = random(n), m = pair(new float[n], n), v = pair(new float[n], n);
            for (int step = 1; step <= 3; step++) {
                Pair g = random(n);
                AdamConfig cfg = new AdamConfig(1e-3, 0.9, 0.999, 1e-8, 1e-2, decoupled, step);
                cpu.adamStep(p.cpu, g.cpu, m.cpu, v.cpu, cfg);
                ref.adamStep(p.ref, g.ref, m.ref, v.ref, cfg);
            }
            check("adam param decoupled=" + decoupled, p, ELEMENT_TOL);
            check("adam m decoupled=" + decoupled, m, ELEMENT_TOL);
            check("adam v decoupled=" + decoupled, v, ELEMENT_TOL);
        }
        for (double momentum : new double[]{0, 0.9}) {
            Pair p = random(n), buf = pair(new float[n], n);
            for (int step = 1; step <= 3; step++) {
                Pair g = random(n);
                cpu.sgdStep(p.cpu, g.cpu, momentum == 0 ? null : buf.cpu, 0.1, momentum, 1e-4, step == 1);
                ref.sgdStep(p.ref, g.ref, momentum == 0 ? null : buf.ref, 0.1, momentum, 1e-4, step == 1);
            }
            check("sgd param momentum=" + momentum, p, ELEMENT_TOL);
        }
    }

    static int[][] concat(int[][] a, int[][] b) {
        int[][] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
