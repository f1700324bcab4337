package dev.kiln.backend.cpu;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.InferenceBatchNorm;
import dev.kiln.backend.reference.ReferenceBackend;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.kiln.backend.cpu.TestTensors.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fused convolution + inference batch norm kernel ({@link CpuBackend#conv2dBatchNormForward}) against the
 * separate kernels it replaces. Its epilogue performs the same float operations in the same order, so the CPU
 * results must be <em>bit-identical</em>; the reference backend's default composition, in double, must agree
 * within 1e-5 of max|reference| (the convolution tolerance of {@link CpuBackendConformanceTest}).
 *
 * <p>Every convolution case of the conformance test runs through both CPU formulations, which covers GEMMs that
 * write the output directly (1x1 on large images, and grids without garbage columns) and grids that are cropped;
 * the shifted-GEMM cases force that formulation. Each runs as bn(conv + bias), relu(bn(conv)) and
 * relu(bn(conv + bias) + residual).
 */
class FusedConvBatchNormTest {
    private static final double TOL = 1e-5;
    /**
     * n, c, h, w, k, r, s, strides, pads: one image per GEMM and no garbage columns, so GEMMs write y itself; and
     * image groups whose last group holds one image, which is then its own grid while the others are cropped
     * (eight and one for a 1x1 on 11x11 outputs, at stride 1 and at stride 2).
     */
    private static final int[][] OWN_GRID_CASES = {
            {2, 3, 48, 48, 4, 2, 2, 2, 2, 0, 0},
            {1, 4, 12, 12, 6, 2, 2, 2, 2, 0, 0},
            {9, 4, 11, 11, 8, 1, 1, 1, 1, 0, 0},
            {9, 8, 22, 22, 8, 1, 1, 2, 2, 0, 0},
    };

    private final CpuBackend cpu = CpuBackend.get();
    private final ReferenceBackend ref = ReferenceBackend.get();
    private final Random rng = new Random(99);

    /** One case's inputs on the CPU (at storage offsets) and their float values. */
    private final class Inputs {
        final int[] c;
        final Conv2dSpec spec;
        final int p, q;
        final float[] x, w, bias, gamma, beta, mean, var, residual;

        Inputs(int[] c, boolean withBias, boolean withResidual) {
            this.c = c;
            spec = new Conv2dSpec(c[7], c[8], c[9], c[10]);
            p = spec.outH(c[2], c[5]);
            q = spec.outW(c[3], c[6]);
            x = TestTensors.random(rng, c[0] * c[1] * c[2] * c[3]);
            w = TestTensors.random(rng, c[4] * c[1] * c[5] * c[6]);
            bias = withBias ? TestTensors.random(rng, c[4]) : null;
            gamma = TestTensors.random(rng, c[4]);
            beta = TestTensors.random(rng, c[4]);
            mean = TestTensors.random(rng, c[4]);
            var = TestTensors.random(rng, c[4]);
            for (int i = 0; i < var.length; i++) var[i] = 0.1f + var[i] * var[i];
            residual = withResidual ? TestTensors.random(rng, c[0] * c[4] * p * q) : null;
        }

        int[] outDims() {
            return new int[]{c[0], c[4], p, q};
        }
    }

    /** Tensors of one case on one backend, closed together. */
    private record Placed(Tensor x, Tensor w, Tensor bias, InferenceBatchNorm bn, Tensor residual, List<Tensor> all)
            implements AutoCloseable {
        static Placed on(dev.kiln.backend.Backend b, Inputs in) {
            List<Tensor> all = new ArrayList<>();
            Tensor x = keep(all, TestTensors.at(b, in.x, in.c[0], in.c[1], in.c[2], in.c[3]));
            Tensor w = keep(all, TestTensors.at(b, in.w, in.c[4], in.c[1], in.c[5], in.c[6]));
            Tensor bias = in.bias == null ? null : keep(all, TestTensors.at(b, in.bias, in.c[4]));
            InferenceBatchNorm bn = new InferenceBatchNorm(keep(all, TestTensors.at(b, in.gamma, in.c[4])),
                    keep(all, TestTensors.at(b, in.beta, in.c[4])), keep(all, TestTensors.at(b, in.mean, in.c[4])),
                    keep(all, TestTensors.at(b, in.var, in.c[4])), 1e-5);
            Tensor residual = in.residual == null ? null : keep(all, TestTensors.at(b, in.residual, in.outDims()));
            return new Placed(x, w, bias, bn, residual, all);
        }

        private static Tensor keep(List<Tensor> all, Tensor t) {
            all.add(t);
            return t;
        }

        @Override
        public void close() {
            all.forEach(Tensor::close);
        }
    }

    @Test
    void fusedKernelIsBitIdenticalToConvolutionThenBatchNorm() {
        for (String formulation : new String[]{"auto", "shifted", "im2col"}) {
            CpuConvolution conv = CpuBackend.convolution(formulation);
            for (int[] c : CpuBackendConformanceTest.concat(CpuBackendConformanceTest.CONV_CASES, OWN_GRID_CASES)) {
                Conv2dSpec spec = new Conv2dSpec(c[7], c[8], c[9], c[10]);
                checkVariants(c, formulation + " " + Arrays.toString(c),
                        (pl, y) -> conv.forward(pl.x, pl.w, pl.bias, y, spec),
                        (pl, relu, y) -> conv.forward(pl.x, pl.w, y, spec,
                                new ChannelEpilogue(pl.bias, pl.bn, pl.residual, relu, y)));
            }
            conv.releaseWorkspaces();
        }
    }

    @Test
    void shiftedFormulationWithEpilogueIsBitIdentical() {
        for (int[] c : CpuBackendConformanceTest.SHIFTED_CASES) {
            ShiftedGemmConvolution conv = new ShiftedGemmConvolution();
            Conv2dSpec spec = new Conv2dSpec(c[7], c[8], c[9], c[10]);
            checkVariants(c, "shifted " + Arrays.toString(c),
                    (pl, y) -> {
                        conv.forward(pl.x, pl.w, y, spec, null);
                        if (pl.bias != null) CpuElementwise.addChannelBias(y, pl.bias);
                    },
                    (pl, relu, y) -> conv.forward(pl.x, pl.w, y, spec,
                            new ChannelEpilogue(pl.bias, pl.bn, pl.residual, relu, y)));
            conv.releaseWorkspaces();
        }
    }

    @Test
    void directKernelWithEpilogueIsBitIdentical() {
        assumeTrue(DirectConvolution.available(), "Kiln's native convolution kernel is not loaded here");
        for (int[] c : CpuBackendConformanceTest.concat(CpuBackendConformanceTest.DIRECT_CASES,
                CpuBackendConformanceTest.DIRECT_STRIDED_CASES)) {
            DirectConvolution conv = new DirectConvolution();
            Conv2dSpec spec = new Conv2dSpec(c[7], c[8], c[9], c[10]);
            checkVariants(c, "direct " + Arrays.toString(c),
                    (pl, y) -> {
                        conv.forward(pl.x, pl.w, null, y, spec, null);
                        if (pl.bias != null) CpuElementwise.addChannelBias(y, pl.bias);
                    },
                    (pl, relu, y) -> conv.forward(pl.x, pl.w, null, y, spec,
                            new ChannelEpilogue(pl.bias, pl.bn, pl.residual, relu, y)));
            conv.releaseWorkspaces();
        }
    }

    @Test
    void backendEntryPointMatchesTheReferenceComposition() {
        for (int[] c : CpuBackendConformanceTest.CONV_CASES) {
            Inputs in = new Inputs(c, true, true);
            try (Placed onCpu = Placed.on(cpu, in); Placed onRef = Placed.on(ref, in);
                 Tensor y = TestTensors.out(cpu, in.outDims());
                 Tensor expected = TestTensors.out(ref, in.outDims())) {
                cpu.conv2dBatchNormForward(onCpu.x, onCpu.w, onCpu.bias, in.spec, onCpu.bn, onCpu.residual, true, y);
                ref.conv2dBatchNormForward(onRef.x, onRef.w, onRef.bias, in.spec, onRef.bn, onRef.residual, true,
                        expected);
                assertClose("fused conv+bn " + Arrays.toString(c), ref.readDoubles(expected), cpu.readFloats(y),
                        TOL, 0);
            }
        }
    }

    /** The convolution alone (with its bias), in the same formulation as the fused kernel under test. */
    @FunctionalInterface
    private interface PlainForward {
        void run(Placed inputs, Tensor y);
    }

    @FunctionalInterface
    private interface FusedForward {
        void run(Placed inputs, boolean relu, Tensor y);
    }

    /** bn(conv + bias), relu(bn(conv)), relu(bn(conv + bias) + residual): fused against separate, bit for bit. */
    private void checkVariants(int[] c, String name, PlainForward plain, FusedForward fused) {
        boolean[][] variants = {{true, false, false}, {false, true, false}, {true, true, true}};
        for (boolean[] v : variants) {
            boolean withBias = v[0], relu = v[1], withResidual = v[2];
            Inputs in = new Inputs(c, withBias, withResidual);
            String what = name + (withBias ? " +bias" : "") + (relu ? " relu" : "") + (withResidual ? " +res" : "");
            try (Placed pl = Placed.on(cpu, in);
                 Tensor convOut = TestTensors.out(cpu, in.outDims());
                 Tensor separate = TestTensors.out(cpu, in.outDims());
                 Tensor y = TestTensors.out(cpu, in.outDims())) {
                plain.run(pl, convOut);
                InferenceBatchNorm bn = pl.bn;
                if (relu) {
                    cpu.batchNormReluForwardInference(convOut, bn.gamma(), bn.beta(), bn.mean(), bn.var(), bn.eps(),
                            pl.residual, separate);
                } else {
                    cpu.batchNormForwardInference(convOut, bn.gamma(), bn.beta(), bn.mean(), bn.var(), bn.eps(),
                            separate);
                }
                fused.run(pl, relu, y);
                assertArrayEquals(cpu.readFloats(separate), cpu.readFloats(y), what);
            }
        }
    }
}
