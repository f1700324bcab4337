package dev.kiln.backend.reference;

import dev.kiln.backend.AdamConfig;
import dev.kiln.backend.Backend;
import dev.kiln.backend.BackendProvider;
import dev.kiln.backend.Backends;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hand-computed cases for every kernel of the reference backend. The expected values are worked out in the
 * comments (or are exact small integers), never produced by the code under test.
 *
 * <p>Tolerances: {@link #EXACT} (1e-12) for F64 results, which here are sums of a few exactly representable
 * numbers or short closed-form expressions; {@link #FLOAT} (1e-6) where a result was stored as F32.
 */
class ReferenceBackendTest {
    private static final ReferenceBackend B = ReferenceBackend.get();
    private static final double EXACT = 1e-12;
    private static final double FLOAT = 1e-6;

    private static Tensor f64(double[] values, int... dims) {
        return Tensor.of(B, values, dims);
    }

    private static Tensor f32(float[] values, int... dims) {
        return Tensor.of(B, values, dims);
    }

    private static Tensor empty(int... dims) {
        return Tensor.empty(B, DType.F64, Shape.of(dims));
    }

    private static void assertValues(double[] expected, Tensor actual, double tolerance) {
        assertArrayEquals(expected, actual.toDoubleArray(), tolerance);
    }

    private static double[] range(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = i;
        return v;
    }

    // ================================================================== memory

    @Nested
    class Memory {
        @Test
        void supportsEveryDtypeAndIsNamedReference() {
            for (DType d : DType.values()) assertTrue(B.supports(d));
            assertEquals("reference", B.name());
        }

        @Test
        void f32StorageRoundsToFloatPrecisionAndF64DoesNot() {
            Tensor single = Tensor.empty(B, DType.F32, Shape.of(1));
            B.write(single, new double[]{0.1});
            assertEquals((double) 0.1f, single.item(), 0.0);
            assertNotEquals(0.1, single.item());

            Tensor dbl = f64(new double[]{0.1}, 1);
            assertEquals(0.1, dbl.item(), 0.0);
        }

        @Test
        void i32StorageTruncatesTowardZeroLikeACast() {
            Tensor ints = Tensor.empty(B, DType.I32, Shape.of(3));
            B.copy(f64(new double[]{2.7, -2.7, 5}, 3), ints);
            assertValues(new double[]{2, -2, 5}, ints, 0.0);

            Tensor labels = Tensor.ofLabels(B, new int[]{3, 0, 7});
            assertValues(new double[]{3, 0, 7}, labels, 0.0);
        }

        @Test
        void readFloatsConvertsToFloat() {
            Tensor t = f64(new double[]{1.5, -2.25}, 2);
            assertArrayEquals(new float[]{1.5f, -2.25f}, B.readFloats(t), 0f);
        }

        @Test
        void writeAndReadHonourTheOffsetOfAView() {
            Tensor base = f64(new double[]{0, 0, 0, 0, 0}, 5);
            Tensor middle = base.narrow(0, 1, 3); // offset 1, elements 1..3
            B.write(middle, new double[]{7, 8, 9});
            assertValues(new double[]{0, 7, 8, 9, 0}, base, 0.0);
            assertArrayEquals(new double[]{7, 8, 9}, B.readDoubles(middle), 0.0);
        }

        @Test
        void fillOverwritesOnlyTheView() {
            Tensor base = f64(new double[]{1, 1, 1, 1}, 2, 2);
            B.fill(base.narrow(0, 1, 1), -3.0); // second row
            assertValues(new double[]{1, 1, -3, -3}, base, 0.0);
        }

        @Test
        void copyOfATransposedView() {
            // a = [[0, 1, 2], [3, 4, 5]]; a^T = [[0, 3], [1, 4], [2, 5]]
            Tensor a = f64(range(6), 2, 3);
            Tensor dst = empty(3, 2);
            B.copy(a.transpose(0, 1), dst);
            assertValues(new double[]{0, 3, 1, 4, 2, 5}, dst, 0.0);
        }

        @Test
        void copyIntoAStridedDestinationWithAnOffset() {
            // dst is column 1 of a (3, 2) matrix: offset 1, stride 2.
            Tensor matrix = f64(new double[6], 3, 2);
            Tensor column = matrix.transpose(0, 1).narrow(0, 1, 1); // shape (1, 3), strides (1, 2), offset 1
            B.copy(f64(new double[]{7, 8, 9}, 1, 3), column);
            assertValues(new double[]{0, 7, 0, 8, 0, 9}, matrix, 0.0);
        }

        @Test
        void copyBetweenTwoStridedViewsConvertsTheDtype() {
            // src: the transpose of a (2, 3) F64 matrix narrowed to its last two rows: [[1, 4], [2, 5]]
            Tensor src = f64(new double[]{0, 1, 2, 3, 4, 5.1}, 2, 3).transpose(0, 1).narrow(0, 1, 2);
            // dst: the transpose of a (2, 2) F32 matrix
            Tensor dstBase = Tensor.zeros(B, DType.F32, Shape.of(2, 2));
            B.copy(src, dstBase.transpose(0, 1));
            // dst^T = src, so dstBase = src^T = [[1, 2], [4, 5.1f]]
            assertValues(new double[]{1, 2, 4, (float) 5.1}, dstBase, 0.0);
        }

        @Test
        void copyOfAZeroDimensionalShape() {
            Tensor src = Tensor.empty(B, DType.F64, Shape.of());
            B.fill(src, 4.5);
            Tensor dst = Tensor.empty(B, DType.F64, Shape.of());
            B.copy(src, dst);
            assertEquals(4.5, dst.item(), 0.0);
        }

        @Test
        void closedStorageCannotBeRead() {
            Tensor t = f64(new double[]{1}, 1);
            ReferenceStorage storage = (ReferenceStorage) t.storage();
            t.close();
            assertTrue(storage.isReleased());
            assertThrows(IllegalStateException.class, () -> storage.get(0));
        }
    }

    // ================================================================== elementwise

    @Nested
    class Elementwise {
        @Test
        void addMulScale() {
            Tensor a = f64(new double[]{1, 2, 3}, 3), b = f64(new double[]{10, -20, 0.5}, 3);
            Tensor out = empty(3);
            B.add(a, b, out);
            assertValues(new double[]{11, -18, 3.5}, out, EXACT);
            B.mul(a, b, out);
            assertValues(new double[]{10, -40, 1.5}, out, EXACT);
            B.scale(a, -0.5, out);
            assertValues(new double[]{-0.5, -1, -1.5}, out, EXACT);
        }

        @Test
        void axpyAccumulatesAndMayAliasItsInput() {
            Tensor x = f64(new double[]{1, 2}, 2), y = f64(new double[]{10, 20}, 2);
            B.axpy(3, x, y);
            assertValues(new double[]{13, 26}, y, EXACT);
            B.axpy(2, y, y); // y += 2y
            assertValues(new double[]{39, 78}, y, EXACT);
        }

        @Test
        void kernelsHonourTensorOffsets() {
            Tensor base = f64(new double[]{100, 1, 2, 100}, 4);
            Tensor out = f64(new double[]{-1, -1, -1, -1}, 4);
            B.add(base.narrow(0, 1, 2), base.narrow(0, 1, 2), out.narrow(0, 2, 2));
            assertValues(new double[]{-1, -1, 2, 4}, out, EXACT);
        }

        @Test
        void reluAndItsGradientAtZero() {
            Tensor x = f64(new double[]{-2, 0, 3, -0.0}, 4);
            Tensor y = empty(4);
            B.reluForward(x, y);
            assertValues(new double[]{0, 0, 3, 0}, y, 0.0);
            Tensor dx = empty(4);
            B.reluBackward(y, f64(new double[]{5, 6, 7, 8}, 4), dx);
            assertValues(new double[]{0, 0, 7, 0}, dx, 0.0); // y == 0 gets no gradient
        }

        @Test
        void reluPropagatesNaN() {
            Tensor y = empty(1);
            B.reluForward(f64(new double[]{Double.NaN}, 1), y);
            assertTrue(Double.isNaN(y.item()));
        }

        @Test
        void sumOfAllElements() {
            Tensor out = empty(1);
            B.sum(f64(new double[]{1, 2, 3, 4, 5, 6}, 2, 3), out);
            assertEquals(21, out.item(), EXACT);
        }

        @Test
        void dropoutMaskFollowsSplittableRandom() {
            double p = 0.25;
            Tensor mask = empty(5);
            B.dropoutMask(mask, p, 42);
            SplittableRandom r = new SplittableRandom(42);
            double[] expected = new double[5];
            for (int i = 0; i < 5; i++) expected[i] = r.nextDouble() < p ? 0 : 1 / 0.75;
            assertValues(expected, mask, EXACT);
        }

        @Test
        void dropoutMaskIsDeterministicPerSeedAndDropsAboutP() {
            int n = 10_000;
            Tensor a = empty(n), b = empty(n), c = empty(n);
            B.dropoutMask(a, 0.5, 7);
            B.dropoutMask(b, 0.5, 7);
            B.dropoutMask(c, 0.5, 8);
            double[] av = a.toDoubleArray();
            assertArrayEquals(av, b.toDoubleArray(), 0.0);
            assertFalse(java.util.Arrays.equals(av, c.toDoubleArray()));
            int zeros = 0;
            for (double v : av) {
                assertTrue(v == 0.0 || v == 2.0, "mask value " + v);
                if (v == 0) zeros++;
            }
            // Binomial(10000, 0.5) has standard deviation 50; 0.03 * n is 6 sigma.
            assertEquals(0.5, zeros / (double) n, 0.03);
        }

        @Test
        void dropoutWithPZeroKeepsEverything() {
            Tensor mask = empty(4);
            B.dropoutMask(mask, 0.0, 1);
            assertValues(new double[]{1, 1, 1, 1}, mask, 0.0);
        }
    }

    // ================================================================== dense algebra

    @Nested
    class Dense {
        // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]], AB = [[58, 64], [139, 154]]
        private final double[] a = {1, 2, 3, 4, 5, 6};
        private final double[] aT = {1, 4, 2, 5, 3, 6};
        private final double[] b = {7, 8, 9, 10, 11, 12};
        private final double[] bT = {7, 9, 11, 8, 10, 12};

        @Test
        void gemmPlain() {
            Tensor c = empty(2, 2);
            B.gemm(false, false, 1, f64(a, 2, 3), f64(b, 3, 2), 0, c);
            assertValues(new double[]{58, 64, 139, 154}, c, EXACT);
        }

        @Test
        void gemmWithAlphaAndBeta() {
            Tensor c = f64(new double[]{1, 2, 3, 4}, 2, 2);
            B.gemm(false, false, 2, f64(a, 2, 3), f64(b, 3, 2), 0.5, c);
            assertValues(new double[]{116.5, 129, 279.5, 310}, c, EXACT);
        }

        @Test
        void gemmTransposedOperands() {
            Tensor c = empty(2, 2);
            B.gemm(true, false, 1, f64(aT, 3, 2), f64(b, 3, 2), 0, c);
            assertValues(new double[]{58, 64, 139, 154}, c, EXACT);
            B.gemm(false, true, 1, f64(a, 2, 3), f64(bT, 2, 3), 0, c);
            assertValues(new double[]{58, 64, 139, 154}, c, EXACT);
            B.gemm(true, true, 1, f64(aT, 3, 2), f64(bT, 2, 3), 0, c);
            assertValues(new double[]{58, 64, 139, 154}, c, EXACT);
        }

        @Test
        void gemmWithBetaZeroIgnoresNaNInTheOutput() {
            Tensor c = f64(new double[]{Double.NaN, Double.NaN, Double.NaN, Double.NaN}, 2, 2);
            B.gemm(false, false, 1, f64(a, 2, 3), f64(b, 3, 2), 0, c);
            assertValues(new double[]{58, 64, 139, 154}, c, EXACT);
        }

        @Test
        void channelBiasAndChannelSumOn4d() {
            // y: (N=2, C=2, H=1, W=2)
            Tensor y = f64(new double[]{0, 0, 0, 0, 1, 1, 1, 1}, 2, 2, 1, 2);
            B.addChannelBias(y, f64(new double[]{10, 20}, 2));
            assertValues(new double[]{10, 10, 20, 20, 11, 11, 21, 21}, y, EXACT);
            Tensor out = empty(2);
            B.channelSum(y, out);
            assertValues(new double[]{42, 82}, out, EXACT);
        }

        @Test
        void channelBiasAndChannelSumOn2d() {
            // y: (N=2, C=3)
            Tensor y = f64(new double[]{1, 2, 3, 4, 5, 6}, 2, 3);
            B.addChannelBias(y, f64(new double[]{1, 0, -1}, 3));
            assertValues(new double[]{2, 2, 2, 5, 5, 5}, y, EXACT);
            Tensor out = empty(3);
            B.channelSum(y, out);
            assertValues(new double[]{7, 7, 7}, out, EXACT);
        }
    }

    // ================================================================== convolution

    @Nested
    class Convolution {
        // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] as (1, 1, 3, 3)
        private Tensor x3x3() {
            return f64(new double[]{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        }

        @Test
        void threeByThreeWithPaddingAndBias() {
            // Filter 0, a "plus": y = centre + its four neighbours inside the image, + 0.5.
            // Filter 1 has one tap, above and right of the centre, so y = x[h-1, w+1] (0 in the padding), - 1. It
            // is symmetric along neither axis, so it tells cross-correlation (what conv2d means) from a flipped
            // convolution.
            Tensor w = f64(new double[]{
                    0, 1, 0, 1, 1, 1, 0, 1, 0,
                    0, 0, 1, 0, 0, 0, 0, 0, 0}, 2, 1, 3, 3);
            Tensor y = empty(1, 2, 3, 3);
            B.conv2dForward(x3x3(), w, f64(new double[]{0.5, -1}, 2), y, Conv2dSpec.of(1, 1));
            assertValues(new double[]{
                    // 1+2+4, 2+1+3+5, 3+2+6 / 4+1+7+5, 5+2+8+4+6, 6+3+9+5 / 7+4+8, 8+5+7+9, 9+6+8, each + 0.5
                    7.5, 11.5, 11.5, 17.5, 25.5, 23.5, 19.5, 29.5, 23.5,
                    // [[0, 0, 0], [2, 3, 0], [5, 6, 0]] - 1
                    -1, -1, -1, 1, 2, -1, 4, 5, -1}, y, EXACT);
        }

        @Test
        void strideTwoWithPaddingNoBias() {
            // 2x2 ones, stride 2, pad 1: windows start at rows/cols -1 and 1.
            // y[0,0] = x[0,0] = 1; y[0,1] = x[0,1] + x[0,2] = 5; y[1,0] = x[1,0] + x[2,0] = 11;
            // y[1,1] = 5 + 6 + 8 + 9 = 28
            Tensor y = empty(1, 1, 2, 2);
            B.conv2dForward(x3x3(), f64(new double[]{1, 1, 1, 1}, 1, 1, 2, 2), null, y, Conv2dSpec.of(2, 1));
            assertValues(new double[]{1, 5, 11, 28}, y, EXACT);
        }

        @Test
        void sumsOverInputChannelsAndBatch() {
            // x (N=2, C=2, 1, 2), w (K=1, C=2, 1, 1) = [1, 0.1]: y = x[:, 0] + 0.1 * x[:, 1]
            Tensor x = f64(new double[]{1, 2, 10, 20, 3, 4, 30, 40}, 2, 2, 1, 2);
            Tensor y = empty(2, 1, 1, 2);
            B.conv2dForward(x, f64(new double[]{1, 0.1}, 1, 2, 1, 1), null, y, Conv2dSpec.of(1, 0));
            assertValues(new double[]{2, 4, 6, 8}, y, EXACT);
        }

        @Test
        void backwardDataAndFilterByHand() {
            // x 3x3 as above, w = [[1, 2], [3, 4]], stride 1, no padding, dy = ones (1, 1, 2, 2).
            // dx[h, w] = sum of the taps that touch (h, w): [[1, 1+2, 2], [1+3, 1+2+3+4, 2+4], [3, 3+4, 4]]
            // dw[r, s] = sum over the 4 windows of x[p+r, q+s]: [[1+2+4+5, 2+3+5+6], [4+5+7+8, 5+6+8+9]]
            Tensor w = f64(new double[]{1, 2, 3, 4}, 1, 1, 2, 2);
            Tensor dy = f64(new double[]{1, 1, 1, 1}, 1, 1, 2, 2);
            Tensor dx = f64(new double[]{99, 99, 99, 99, 99, 99, 99, 99, 99}, 1, 1, 3, 3); // overwritten
            B.conv2dBackwardData(dy, w, dx, Conv2dSpec.of(1, 0));
            assertValues(new double[]{1, 3, 2, 4, 10, 6, 3, 7, 4}, dx, EXACT);
            Tensor dw = f64(new double[]{99, 99, 99, 99}, 1, 1, 2, 2);
            B.conv2dBackwardFilter(x3x3(), dy, dw, Conv2dSpec.of(1, 0));
            assertValues(new double[]{12, 16, 24, 28}, dw, EXACT);
        }

        @Test
        void backwardRoutesAOneHotGradientToOneWindow() {
            // dy = 1 at output (0, 0) only: dx is w placed at the top-left, dw is the top-left window of x.
            Tensor w = f64(new double[]{1, 2, 3, 4}, 1, 1, 2, 2);
            Tensor dy = f64(new double[]{1, 0, 0, 0}, 1, 1, 2, 2);
            Tensor dx = empty(1, 1, 3, 3), dw = empty(1, 1, 2, 2);
            B.conv2dBackwardData(dy, w, dx, Conv2dSpec.of(1, 0));
            B.conv2dBackwardFilter(x3x3(), dy, dw, Conv2dSpec.of(1, 0));
            assertValues(new double[]{1, 2, 0, 3, 4, 0, 0, 0, 0}, dx, EXACT);
            assertValues(new double[]{1, 2, 4, 5}, dw, EXACT);
        }

        @Test
        void backwardKernelsAreTheAdjointsOfTheForward() {
            // conv is bilinear, so for any x, w, dy: <conv(x, w), dy> = <x, dX(dy, w)> = <w, dW(x, dy)>.
            // Checked with random data, stride 2, asymmetric padding and a non-square image.
            Conv2dSpec spec = new Conv2dSpec(2, 1, 1, 2);
            int n = 2, c = 3, h = 5, wd = 4, k = 4, r = 3, s = 2;
            int p = spec.outH(h, r), q = spec.outW(wd, s);
            Random random = new Random(1);
            Tensor x = f64(randoms(random, n * c * h * wd), n, c, h, wd);
            Tensor w = f64(randoms(random, k * c * r * s), k, c, r, s);
            Tensor dy = f64(randoms(random, n * k * p * q), n, k, p, q);
            Tensor y = empty(n, k, p, q), dx = empty(n, c, h, wd), dw = empty(k, c, r, s);
            B.conv2dForward(x, w, null, y, spec);
            B.conv2dBackwardData(dy, w, dx, spec);
            B.conv2dBackwardFilter(x, dy, dw, spec);
            double forward = dot(y, dy);
            assertEquals(forward, dot(x, dx), 1e-10);
            assertEquals(forward, dot(w, dw), 1e-10);
        }
    }

    private static double[] randoms(Random random, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = random.nextGaussian();
        return v;
    }

    private static double dot(Tensor a, Tensor b) {
        double[] av = a.toDoubleArray(), bv = b.toDoubleArray();
        double s = 0;
        for (int i = 0; i < av.length; i++) s += av[i] * bv[i];
        return s;
    }

    // ================================================================== batch normalization

    @Nested
    class BatchNorm {
        // x (N=2, C=2, H=1, W=2). Channel 0 holds 1, 3, 5, 7: mean 4, biased variance (9+1+1+9)/4 = 5,
        // unbiased 20/3. Channel 1 holds 2, 2, 2, 2: mean 2, variance 0. With eps = 4, invStd = [1/3, 1/2],
        // and channel 0's x-hat = (x - 4) / 3 = [-1, -1/3, 1/3, 1].
        private final double[] xValues = {1, 3, 2, 2, 5, 7, 2, 2};
        private final double eps = 4;
        private final double[] gamma = {2, 3};
        private final double[] beta = {0.5, -1};
        // y = x-hat * gamma + beta: channel 0 = [-1.5, -1/6, 7/6, 2.5]; channel 1 = beta = -1
        private final double[] yExpected = {-1.5, -1.0 / 6, -1, -1, 7.0 / 6, 2.5, -1, -1};

        @Test
        void trainingForwardNormalizesSavesStatisticsAndUpdatesRunningOnes() {
            Tensor y = empty(2, 2, 1, 2), saveMean = empty(2), saveInvStd = empty(2);
            Tensor runningMean = f64(new double[]{0, 1}, 2), runningVar = f64(new double[]{1, 1}, 2);
            B.batchNormForwardTraining(f64(xValues, 2, 2, 1, 2), f64(gamma, 2), f64(beta, 2), y, runningMean,
                    runningVar, 0.1, eps, saveMean, saveInvStd);
            assertValues(yExpected, y, EXACT);
            assertValues(new double[]{4, 2}, saveMean, EXACT);
            assertValues(new double[]{1.0 / 3, 0.5}, saveInvStd, EXACT);
            // running = 0.9 * running + 0.1 * batch, with the unbiased variance for the running variance
            assertValues(new double[]{0.4, 1.1}, runningMean, EXACT);
            assertValues(new double[]{0.9 + 0.1 * 20 / 3, 0.9}, runningVar, EXACT);
        }

        @Test
        void trainingForwardWithoutRunningStatistics() {
            Tensor y = empty(2, 2, 1, 2), saveMean = empty(2), saveInvStd = empty(2);
            B.batchNormForwardTraining(f64(xValues, 2, 2, 1, 2), f64(gamma, 2), f64(beta, 2), y, null, null,
                    0.1, eps, saveMean, saveInvStd);
            assertValues(yExpected, y, EXACT);
        }

        @Test
        void trainingForwardOnTwoDimensionalInput() {
            // x (N=4, C=1) = 1, 3, 5, 7: same statistics as channel 0 above.
            Tensor y = empty(4, 1), saveMean = empty(1), saveInvStd = empty(1);
            B.batchNormForwardTraining(f64(new double[]{1, 3, 5, 7}, 4, 1), f64(new double[]{1}, 1),
                    f64(new double[]{0}, 1), y, null, null, 0.1, eps, saveMean, saveInvStd);
            assertValues(new double[]{-1, -1.0 / 3, 1.0 / 3, 1}, y, EXACT);
        }

        @Test
        void inferenceForwardUsesTheGivenStatistics() {
            Tensor y = empty(2, 2, 1, 2);
            B.batchNormForwardInference(f64(xValues, 2, 2, 1, 2), f64(gamma, 2), f64(beta, 2),
                    f64(new double[]{4, 2}, 2), f64(new double[]{5, 0}, 2), eps, y);
            assertValues(yExpected, y, EXACT);
        }

        @Test
        void trainingBackwardByHand() {
            // dy: channel 0 = [1, 0, 0, 0], channel 1 = [1, 2, 3, 4] (layout n, c, w).
            // Channel 0: dbeta = 1, dgamma = sum dy * x-hat = -1,
            //   dx = gamma * invStd / M * (M dy - dbeta - x-hat dgamma) = (1/6) (4 dy - 1 + x-hat)
            //      = (1/6) [2, -4/3, -2/3, 0] = [1/3, -2/9, -1/9, 0].
            // Channel 1: x-hat = 0, so dgamma = 0, dbeta = 10, dx = (3/2)/4 * (4 dy - 10) = [-2.25, -0.75, 0.75, 2.25].
            Tensor dy = f64(new double[]{1, 0, 1, 2, 0, 0, 3, 4}, 2, 2, 1, 2);
            Tensor dx = empty(2, 2, 1, 2), dgamma = empty(2), dbeta = empty(2);
            B.batchNormBackward(f64(xValues, 2, 2, 1, 2), dy, f64(gamma, 2), f64(new double[]{4, 2}, 2),
                    f64(new double[]{1.0 / 3, 0.5}, 2), dx, dgamma, dbeta);
            assertValues(new double[]{1.0 / 3, -2.0 / 9, -2.25, -0.75, -1.0 / 9, 0, 0.75, 2.25}, dx, EXACT);
            assertValues(new double[]{-1, 0}, dgamma, EXACT);
            assertValues(new double[]{1, 10}, dbeta, EXACT);
        }

        @Test
        void trainingBackwardMatchesCentralDifferences() {
            // L = sum(y * g) for fixed random g; dL/dx, dL/dgamma, dL/dbeta by central differences in float64.
            int n = 2, c = 3, h = 2, w = 2, size = n * c * h * w;
            Random random = new Random(3);
            double[] x = randoms(random, size), g = randoms(random, size);
            double[] gam = randoms(random, c), bet = randoms(random, c);
            double bnEps = 1e-3;

            Tensor y = empty(n, c, h, w), mean = empty(c), invStd = empty(c);
            B.batchNormForwardTraining(f64(x, n, c, h, w), f64(gam, c), f64(bet, c), y, null, null, 0.1, bnEps,
                    mean, invStd);
            Tensor dx = empty(n, c, h, w), dgamma = empty(c), dbeta = empty(c);
            B.batchNormBackward(f64(x, n, c, h, w), f64(g, n, c, h, w), f64(gam, c), mean, invStd, dx, dgamma,
                    dbeta);

            double step = 1e-5;
            double[] dxv = dx.toDoubleArray();
            for (int i = 0; i < size; i++) {
                double[] plus = x.clone(), minus = x.clone();
                plus[i] += step;
                minus[i] -= step;
                double numeric = (bnLoss(plus, gam, bet, g, bnEps, n, c, h, w)
                        - bnLoss(minus, gam, bet, g, bnEps, n, c, h, w)) / (2 * step);
                assertEquals(numeric, dxv[i], 1e-6, "dx[" + i + "]");
            }
            double[] dgv = dgamma.toDoubleArray(), dbv = dbeta.toDoubleArray();
            for (int k = 0; k < c; k++) {
                double[] gp = gam.clone(), gm = gam.clone(), bp = bet.clone(), bm = bet.clone();
                gp[k] += step;
                gm[k] -= step;
                bp[k] += step;
                bm[k] -= step;
                assertEquals((bnLoss(x, gp, bet, g, bnEps, n, c, h, w) - bnLoss(x, gm, bet, g, bnEps, n, c, h, w))
                        / (2 * step), dgv[k], 1e-6, "dgamma[" + k + "]");
                assertEquals((bnLoss(x, gam, bp, g, bnEps, n, c, h, w) - bnLoss(x, gam, bm, g, bnEps, n, c, h, w))
                        / (2 * step), dbv[k], 1e-6, "dbeta[" + k + "]");
            }
        }

        private double bnLoss(double[] x, double[] gam, double[] bet, double[] g, double bnEps, int n, int c, int h,
                              int w) {
            Tensor y = empty(n, c, h, w);
            B.batchNormForwardTraining(f64(x, n, c, h, w), f64(gam, c), f64(bet, c), y, null, null, 0.1, bnEps,
                    empty(c), empty(c));
            return dot(y, f64(g, n, c, h, w));
        }

        @Test
        void inferenceBackwardByHand() {
            // dx = dy * gamma * invStd = channel 0: dy * 2/3, channel 1: dy * 3/2; dgamma = sum dy * x-hat = [-1, 0];
            // dbeta = sum dy = [1, 10]
            Tensor dy = f64(new double[]{1, 0, 1, 2, 0, 0, 3, 4}, 2, 2, 1, 2);
            Tensor dx = empty(2, 2, 1, 2), dgamma = empty(2), dbeta = empty(2);
            B.batchNormBackwardInference(f64(xValues, 2, 2, 1, 2), dy, f64(gamma, 2), f64(new double[]{4, 2}, 2),
                    f64(new double[]{5, 0}, 2), eps, dx, dgamma, dbeta);
            assertValues(new double[]{2.0 / 3, 0, 1.5, 3, 0, 0, 4.5, 6}, dx, EXACT);
            assertValues(new double[]{-1, 0}, dgamma, EXACT);
            assertValues(new double[]{1, 10}, dbeta, EXACT);
        }

        @Test
        void backwardSkipsNullOutputs() {
            Tensor dy = f64(new double[]{1, 0, 1, 2, 0, 0, 3, 4}, 2, 2, 1, 2);
            Tensor dbeta = empty(2);
            B.batchNormBackward(f64(xValues, 2, 2, 1, 2), dy, f64(gamma, 2), f64(new double[]{4, 2}, 2),
                    f64(new double[]{1.0 / 3, 0.5}, 2), null, null, dbeta);
            assertValues(new double[]{1, 10}, dbeta, EXACT);
            B.batchNormBackwardInference(f64(xValues, 2, 2, 1, 2), dy, f64(gamma, 2), f64(new double[]{4, 2}, 2),
                    f64(new double[]{5, 0}, 2), eps, null, null, null);
        }

        @Test
        void runningVarianceNeedsMoreThanOneValuePerChannel() {
            Tensor x = f64(new double[]{1, 2}, 1, 2);
            assertThrows(IllegalArgumentException.class, () -> B.batchNormForwardTraining(x,
                    f64(new double[]{1, 1}, 2), f64(new double[]{0, 0}, 2), empty(1, 2), empty(2), empty(2), 0.1,
                    1e-5, empty(2), empty(2)));
        }
    }

    // ================================================================== pooling

    @Nested
    class Pooling {
        @Test
        void tiesGoToTheFirstMaximumInScanOrder() {
            Pool2dSpec spec = new Pool2dSpec(2, 2, 0, false);
            // All equal: the top-left one gets the gradient.
            Tensor x = f64(new double[]{5, 5, 5, 5}, 1, 1, 2, 2);
            Tensor dx = empty(1, 1, 2, 2), y = empty(1, 1, 1, 1);
            B.maxPool2dForward(x, y, spec);
            assertValues(new double[]{5}, y, 0.0);
            B.maxPool2dBackward(x, y, f64(new double[]{1}, 1, 1, 1, 1), dx, spec);
            assertValues(new double[]{1, 0, 0, 0}, dx, 0.0);
            // [[1, 7], [7, 3]]: row-major scan meets (0, 1) before (1, 0).
            Tensor x2 = f64(new double[]{1, 7, 7, 3}, 1, 1, 2, 2);
            B.maxPool2dBackward(x2, y, f64(new double[]{1}, 1, 1, 1, 1), dx, spec);
            assertValues(new double[]{0, 1, 0, 0}, dx, 0.0);
        }

        @Test
        void overlappingWindowsAccumulate() {
            // x = [[1, 2, 3], [4, 9, 5], [6, 7, 8]], kernel 2, stride 1: the 9 is the max of all four windows.
            Pool2dSpec spec = new Pool2dSpec(2, 1, 0, false);
            Tensor x = f64(new double[]{1, 2, 3, 4, 9, 5, 6, 7, 8}, 1, 1, 3, 3);
            Tensor y = empty(1, 1, 2, 2), dx = empty(1, 1, 3, 3);
            B.maxPool2dForward(x, y, spec);
            assertValues(new double[]{9, 9, 9, 9}, y, 0.0);
            B.maxPool2dBackward(x, y, f64(new double[]{1, 2, 3, 4}, 1, 1, 2, 2), dx, spec);
            assertValues(new double[]{0, 0, 0, 0, 10, 0, 0, 0, 0}, dx, 0.0);
        }

        @Test
        void paddingActsAsMinusInfinity() {
            // Every window holds one real pixel and three padding ones; the negative pixels still win over padding.
            Pool2dSpec spec = new Pool2dSpec(2, 2, 1, false);
            Tensor x = f64(new double[]{-1, -2, -3, -4}, 1, 1, 2, 2);
            Tensor y = empty(1, 1, spec.outSize(2), spec.outSize(2));
            B.maxPool2dForward(x, y, spec);
            assertValues(new double[]{-1, -2, -3, -4}, y, 0.0);
            Tensor dx = empty(1, 1, 2, 2);
            B.maxPool2dBackward(x, y, f64(new double[]{1, 2, 3, 4}, 1, 1, 2, 2), dx, spec);
            assertValues(new double[]{1, 2, 3, 4}, dx, 0.0);
        }

        @Test
        void ceilModeKeepsThePartialLastWindow() {
            // x = 0..24 as 5x5, kernel 2, stride 2. Floor mode: 2x2 output; ceil mode: 3x3, the last row and column
            // of windows holding only row/column 4.
            Tensor x = f64(range(25), 1, 1, 5, 5);
            Pool2dSpec floor = new Pool2dSpec(2, 2, 0, false), ceil = new Pool2dSpec(2, 2, 0, true);
            assertEquals(2, floor.outSize(5));
            assertEquals(3, ceil.outSize(5));
            Tensor yFloor = empty(1, 1, 2, 2), yCeil = empty(1, 1, 3, 3);
            B.maxPool2dForward(x, yFloor, floor);
            B.maxPool2dForward(x, yCeil, ceil);
            assertValues(new double[]{6, 8, 16, 18}, yFloor, 0.0);
            assertValues(new double[]{6, 8, 9, 16, 18, 19, 21, 23, 24}, yCeil, 0.0);

            Tensor dx = empty(1, 1, 5, 5);
            B.maxPool2dBackward(x, yCeil, f64(new double[]{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3), dx, ceil);
            double[] expected = new double[25];
            for (int i : new int[]{6, 8, 9, 16, 18, 19, 21, 23, 24}) expected[i] = 1;
            assertValues(expected, dx, 0.0);
        }

        @Test
        void nanPropagatesThroughMaxPool() {
            Pool2dSpec spec = new Pool2dSpec(2, 2, 0, false);
            Tensor y = empty(1, 1, 1, 1);
            B.maxPool2dForward(f64(new double[]{1, Double.NaN, 3, 2}, 1, 1, 2, 2), y, spec);
            assertTrue(Double.isNaN(y.item()));
        }

        @Test
        void poolsEachBatchAndChannelPlaneSeparately() {
            // x (N=1, C=2, 2, 2), kernel 2: one max per channel.
            Pool2dSpec spec = new Pool2dSpec(2, 2, 0, false);
            Tensor y = empty(1, 2, 1, 1);
            B.maxPool2dForward(f64(new double[]{1, 4, 2, 3, -5, -6, -7, -8}, 1, 2, 2, 2), y, spec);
            assertValues(new double[]{4, -5}, y, 0.0);
        }

        @Test
        void globalAveragePool() {
            // x (1, 2, 2, 2): channel 0 = 1, 2, 3, 4 (mean 2.5), channel 1 = 10, 10, 20, 20 (mean 15)
            Tensor y = empty(1, 2);
            B.globalAvgPoolForward(f64(new double[]{1, 2, 3, 4, 10, 10, 20, 20}, 1, 2, 2, 2), y);
            assertValues(new double[]{2.5, 15}, y, EXACT);
            Tensor dx = empty(1, 2, 2, 2);
            B.globalAvgPoolBackward(f64(new double[]{4, 8}, 1, 2), dx);
            assertValues(new double[]{1, 1, 1, 1, 2, 2, 2, 2}, dx, EXACT);
        }
    }

    // ================================================================== softmax and loss

    @Nested
    class SoftmaxAndLoss {
        // The row [0, ln 2, ln 3] has exponentials [1, 2, 3]: softmax [1/6, 2/6, 3/6], logsumexp ln 6.
        private final double[] row = {0, Math.log(2), Math.log(3)};

        @Test
        void softmaxOfAKnownRowAndOfHugeLogits() {
            Tensor y = empty(2, 3);
            B.softmax(f64(new double[]{row[0], row[1], row[2], 1000, 1000, -1000}, 2, 3), y);
            // Without subtracting the max, exp(1000) overflows to infinity and the second row is NaN.
            assertValues(new double[]{1.0 / 6, 2.0 / 6, 3.0 / 6, 0.5, 0.5, 0}, y, EXACT);
        }

        @Test
        void crossEntropyWithClassIndices() {
            // Row 0, class 2: ln 6 - ln 3 = ln 2. Row 1 = [1000, 0], class 1: loss 1000 (finite: stable).
            Tensor logits = f64(new double[]{row[0], row[1], row[2], 1000, 0, 0}, 2, 3);
            Tensor probs = empty(2, 3), loss = empty(2);
            B.softmaxCrossEntropyForward(logits, Tensor.ofLabels(B, new int[]{2, 1}), probs, loss);
            assertValues(new double[]{Math.log(2), 1000}, loss, EXACT);
            assertValues(new double[]{1.0 / 6, 2.0 / 6, 3.0 / 6, 1, 0, 0}, probs, EXACT);
        }

        @Test
        void crossEntropyWithASoftDistribution() {
            // target [0.5, 0, 0.5]: ln 6 - 0.5 * (0 + ln 3)
            Tensor probs = empty(1, 3), loss = empty(1);
            B.softmaxCrossEntropyForward(f64(row, 1, 3), f64(new double[]{0.5, 0, 0.5}, 1, 3), probs, loss);
            assertValues(new double[]{Math.log(6) - 0.5 * Math.log(3)}, loss, EXACT);
        }

        @Test
        void crossEntropyBackwardWithIndicesAndDistributions() {
            // dlogits = scale * (probs - target) with probs [1/6, 2/6, 3/6], scale 0.5
            Tensor probs = f64(new double[]{1.0 / 6, 2.0 / 6, 3.0 / 6}, 1, 3);
            Tensor d = empty(1, 3);
            B.softmaxCrossEntropyBackward(probs, Tensor.ofLabels(B, new int[]{2}), 0.5, d);
            assertValues(new double[]{1.0 / 12, 1.0 / 6, -0.25}, d, EXACT);
            B.softmaxCrossEntropyBackward(probs, f64(new double[]{0.5, 0, 0.5}, 1, 3), 0.5, d);
            assertValues(new double[]{1.0 / 12 - 0.25, 1.0 / 6, 0}, d, EXACT);
        }

        @Test
        void labelOutsideTheClassesIsRejected() {
            assertThrows(IndexOutOfBoundsException.class, () -> B.softmaxCrossEntropyForward(f64(row, 1, 3),
                    Tensor.ofLabels(B, new int[]{3}), empty(1, 3), empty(1)));
        }
    }

    // ================================================================== optimizers

    @Nested
    class Optimizers {
        @Test
        void adamFirstStepByHand() {
            // p = 1, g = 0.5, lr 0.1, betas (0.9, 0.999), eps 1e-8, t = 1:
            // m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 0.00025, bias corrections 0.1 and 0.001:
            // p = 1 - 0.1 / 0.1 * 0.05 / (sqrt(0.00025) / sqrt(0.001) + 1e-8) = 1 - 0.05 / (0.5 + 1e-8)
            Tensor p = f64(new double[]{1}, 1), g = f64(new double[]{0.5}, 1);
            Tensor m = f64(new double[]{0}, 1), v = f64(new double[]{0}, 1);
            B.adamStep(p, g, m, v, new AdamConfig(0.1, 0.9, 0.999, 1e-8, 0, false, 1));
            assertValues(new double[]{0.05}, m, EXACT);
            assertValues(new double[]{0.00025}, v, EXACT);
            assertValues(new double[]{1 - 0.05 / (0.5 + 1e-8)}, p, EXACT);
            assertValues(new double[]{0.5}, g, 0.0); // the gradient is not modified

            // Second step, g = -0.25: m = 0.045 - 0.025 = 0.02, v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225,
            // bias corrections 1 - 0.81 = 0.19 and 1 - 0.998001 = 0.001999.
            double p1 = p.item();
            B.adamStep(p, f64(new double[]{-0.25}, 1), m, v, new AdamConfig(0.1, 0.9, 0.999, 1e-8, 0, false, 2));
            assertValues(new double[]{0.02}, m, EXACT);
            assertValues(new double[]{0.00031225}, v, EXACT);
            double expected = p1 - 0.1 / 0.19 * 0.02 / (Math.sqrt(0.00031225) / Math.sqrt(0.001999) + 1e-8);
            assertValues(new double[]{expected}, p, EXACT);
        }

        @Test
        void adamL2WeightDecayGoesIntoTheGradient() {
            // wd 0.1 with p = 1: g' = 0.5 + 0.1 = 0.6, m = 0.06, v = 0.00036 -> p = 1 - 0.06 / (0.6 + 1e-8)
            Tensor p = f64(new double[]{1}, 1), m = f64(new double[]{0}, 1), v = f64(new double[]{0}, 1);
            B.adamStep(p, f64(new double[]{0.5}, 1), m, v, new AdamConfig(0.1, 0.9, 0.999, 1e-8, 0.1, false, 1));
            assertValues(new double[]{0.06}, m, EXACT);
            assertValues(new double[]{1 - 0.06 / (0.6 + 1e-8)}, p, EXACT);
        }

        @Test
        void adamWDecaysTheParameterItself() {
            // AdamW, wd 0.1: p = 1 * (1 - 0.1 * 0.1) = 0.99, then the plain step: p = 0.99 - 0.05 / (0.5 + 1e-8).
            Tensor p = f64(new double[]{1}, 1), m = f64(new double[]{0}, 1), v = f64(new double[]{0}, 1);
            B.adamStep(p, f64(new double[]{0.5}, 1), m, v, new AdamConfig(0.1, 0.9, 0.999, 1e-8, 0.1, true, 1));
            assertValues(new double[]{0.05}, m, EXACT);
            assertValues(new double[]{0.99 - 0.05 / (0.5 + 1e-8)}, p, EXACT);
        }

        @Test
        void adamOnF32RoundsTheStoredParameter() {
            Tensor p = f32(new float[]{1}, 1), m = f32(new float[]{0}, 1), v = f32(new float[]{0}, 1);
            B.adamStep(p, f32(new float[]{0.5f}, 1), m, v, new AdamConfig(0.1, 0.9, 0.999, 1e-8, 0, false, 1));
            double exact = 1 - 0.05 / (0.5 + 1e-8);
            assertEquals((float) exact, p.item(), 0.0);
            assertEquals(exact, p.item(), FLOAT);
        }

        @Test
        void sgdWithMomentumAndWeightDecayTwoSteps() {
            // lr 0.1, momentum 0.9, wd 0.01, p = [1, 2], g = [0.5, -1] both steps.
            // Step 1: g' = [0.51, -0.98] = buf; p = [1 - 0.051, 2 + 0.098] = [0.949, 2.098].
            // Step 2: g' = [0.5 + 0.00949, -1 + 0.02098] = [0.50949, -0.97902];
            //         buf = 0.9 * [0.51, -0.98] + g' = [0.96849, -1.86102]; p = [0.852151, 2.284102].
            Tensor p = f64(new double[]{1, 2}, 2), g = f64(new double[]{0.5, -1}, 2);
            Tensor buf = f64(new double[]{Double.NaN, Double.NaN}, 2); // not read on the first step
            B.sgdStep(p, g, buf, 0.1, 0.9, 0.01, true);
            assertValues(new double[]{0.51, -0.98}, buf, EXACT);
            assertValues(new double[]{0.949, 2.098}, p, EXACT);
            B.sgdStep(p, g, buf, 0.1, 0.9, 0.01, false);
            assertValues(new double[]{0.96849, -1.86102}, buf, EXACT);
            assertValues(new double[]{0.852151, 2.284102}, p, EXACT);
            assertValues(new double[]{0.5, -1}, g, 0.0);
        }

        @Test
        void sgdWithoutMomentumNeedsNoBuffer() {
            Tensor p = f64(new double[]{1, 2}, 2);
            B.sgdStep(p, f64(new double[]{0.5, -1}, 2), null, 0.1, 0, 0, true);
            assertValues(new double[]{0.95, 2.1}, p, EXACT);
        }
    }

    // ================================================================== discovery

    @Test
    void providerIsDiscoveredByNameAndNeverPreferredOverTheCpu() {
        BackendProvider provider = Backends.providers().stream()
                .filter(p -> p.name().equals("reference")).findFirst().orElseThrow();
        assertTrue(provider.priority() < 0, "the CPU backend has priority 0 and must win 'auto'");
        Backend found = Backends.get("reference");
        assertSame(ReferenceBackend.INSTANCE, found);
        assertSame(ReferenceBackend.INSTANCE, ReferenceBackend.get());
    }
}
