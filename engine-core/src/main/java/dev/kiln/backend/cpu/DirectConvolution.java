package dev.kiln.backend.cpu;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Tensor;

/**
 * Stride-1 convolution, forward and backward-data, through Kiln's own AVX-512 kernel
 * ({@code src/main/cpp/kiln_direct_conv.h}, bound by {@link DirectConvKernels}) instead of OpenBLAS.
 *
 * <p>It computes what {@link ShiftedGemmConvolution} computes (every tap is a shifted view of a zero-padded
 * input, the output lives on a grid as wide as the padded input), but one register tile at a time: 8 output
 * channels by 48 grid positions summed over every input channel and tap, then stored through the epilogue. No
 * GEMM means no packing of the input, no zeroing and re-reading of the output for each tap, and the bias, batch
 * norm, residual and ReLU applied to values still in registers. On this machine's Zen 5 it ran the 3x3
 * convolutions of ResNet50 at 56x56 and 28x28 about twice as fast as OpenBLAS did.
 *
 * <p>Backward-data is the same correlation of dy, padded by R-1-pad, with the weights transposed and their taps
 * flipped ({@code dx = sum W_(R-1-r, S-1-s)^T dy_shifted}). Backward-filter stays with OpenBLAS
 * ({@link CpuConvolution}). Not thread-safe: {@link CpuConvolution} serializes calls.
 */
final class DirectConvolution {
    /** Output channels and grid positions per register tile, as in kiln_direct_conv.h. */
    private static final int CHANNEL_BLOCK = 8, TILE_POSITIONS = 48;
    /**
     * Least share of the tiles' lanes that must land on real outputs (the rest are garbage columns or the tail
     * of the last tile). Measured against OpenBLAS at batch 8: a 3x3 at 14x14 (0.82) still won, 4.3 against
     * 5.6 ms; a 1x1 at 14x14 (also 0.82) lost, 2.2 against 1.9 ms, since there OpenBLAS runs one plain GEMM.
     */
    private static final double MIN_LANE_USE = 0.8, MIN_LANE_USE_1X1 = 0.9;

    private final Workspace packed = new Workspace();
    private final Workspace padded = new Workspace();
    private final Workspace epilogueParams = new Workspace();

    /** Whether the kernel loaded and runs on this CPU. */
    static boolean available() {
        return DirectConvKernels.AVAILABLE;
    }

    /**
     * Whether the forward of x (N, C, H, W) by w (K, C, R, S) goes through this kernel: it {@link #applies}, and
     * enough of its tiles' lanes do useful work, in the forward and in backward-data.
     */
    static boolean suits(int n, int c, int h, int w, int k, int r, int s, Conv2dSpec spec) {
        if (!available() || !applies(h, w, r, s, spec) || n == 0 || c == 0 || k == 0) return false;
        int p = spec.outH(h, r), q = spec.outW(w, s);
        double least = r * s == 1 ? MIN_LANE_USE_1X1 : MIN_LANE_USE;
        return laneUse(p, q, w + 2 * spec.padW()) >= least && laneUse(h, w, q + 2 * (s - 1 - spec.padW())) >= least;
    }

    /** Stride 1, padding below the kernel size (so backward-data's padding R-1-pad is not negative). */
    static boolean applies(int h, int w, int r, int s, Conv2dSpec spec) {
        if (spec.strideH() != 1 || spec.strideW() != 1) return false;
        if (spec.padH() > r - 1 || spec.padW() > s - 1) return false;
        return spec.outH(h, r) > 0 && spec.outW(w, s) > 0;
    }

    /** Share of the lanes of the 48-position tiles that hold one of the rows x cols outputs of a grid so wide. */
    private static double laneUse(int rows, int cols, int gridWidth) {
        long positions = (long) rows * gridWidth;
        long lanes = (positions + TILE_POSITIONS - 1) / TILE_POSITIONS * TILE_POSITIONS;
        return (double) rows * cols / lanes;
    }

    long workspaceBytes() {
        return packed.bytes() + padded.bytes() + epilogueParams.bytes();
    }

    void releaseWorkspaces() {
        packed.release();
        padded.release();
        epilogueParams.release();
    }

    /**
     * x (N, C, H, W), w (K, C, R, S), y (N, K, P, Q). Each output plane gets + bias (nullable) or, with an
     * epilogue (nullable, which then carries any bias), the epilogue.
     */
    void forward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec, ChannelEpilogue epilogue) {
        int k = w.dim(0), c = w.dim(1), r = w.dim(2), s = w.dim(3);
        packed.ensure((long) blocks(k) * CHANNEL_BLOCK * c * r * s);
        DirectConvKernels.packWeights(CpuStorage.address(w), k, c, r, s, 0, packed.pointer().address());
        Epilogue e = epilogue != null ? epilogue(epilogue, k) : bias != null ? biasOnly(bias, k) : Epilogue.NONE;
        correlate(x, spec.padH(), spec.padW(), r, s, k, y, e);
    }

    /** dy (N, K, P, Q), w (K, C, R, S), dx (N, C, H, W), overwritten. */
    void backwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        int k = w.dim(0), c = w.dim(1), r = w.dim(2), s = w.dim(3);
        packed.ensure((long) blocks(c) * CHANNEL_BLOCK * k * r * s);
        DirectConvKernels.packWeights(CpuStorage.address(w), k, c, r, s, 1, packed.pointer().address());
        correlate(dy, r - 1 - spec.padH(), s - 1 - spec.padW(), r, s, c, dx, Epilogue.NONE);
    }

    /**
     * out (N, outChannels, P, Q) = the packed weights correlated with in (N, Cin, H, W) zero-padded by (padH,
     * padW). Work is split by image, and by block of output channels when there are fewer images than threads;
     * where each unit is one whole image, it pads its image right before using it, while it is still in cache.
     */
    private void correlate(Tensor in, int padH, int padW, int r, int s, int outChannels, Tensor out, Epilogue e) {
        int n = in.dim(0), cin = in.dim(1), h = in.dim(2), w = in.dim(3);
        int hp = h + 2 * padH, wp = w + 2 * padW;
        long inImage = (long) cin * h * w, paddedImage = (long) cin * hp * wp;
        long outImage = (long) outChannels * (hp - r + 1) * (wp - s + 1);
        int kBlocks = blocks(outChannels), threads = CpuThreads.count();
        int splits = n >= threads ? 1 : Math.min(kBlocks, (threads + n - 1) / n);
        boolean pads = padH > 0 || padW > 0;
        long inAt = CpuStorage.address(in), outAt = CpuStorage.address(out), packedAt = packed.pointer().address();
        long paddedAt = 0;
        if (pads) {
            padded.ensure(n * paddedImage);
            paddedAt = padded.pointer().address();
        }
        long residualAt = e.residual == null ? 0 : CpuStorage.address(e.residual);
        final long paddedBase = paddedAt;
        if (pads && splits > 1) {
            ParallelLoops.forRange(n, paddedImage, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    DirectConvKernels.padPlanes(inAt + Float.BYTES * i * inImage, cin, h, w, padH, padW, hp, wp,
                            paddedBase + Float.BYTES * i * paddedImage);
                }
            });
        }
        long workPerUnit = paddedImage * kBlocks / splits;
        ParallelLoops.forRange(n * splits, workPerUnit, (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int image = u / splits, part = u % splits;
                long source = inAt + Float.BYTES * image * inImage;
                if (pads) {
                    long target = paddedBase + Float.BYTES * image * paddedImage;
                    if (splits == 1) DirectConvKernels.padPlanes(source, cin, h, w, padH, padW, hp, wp, target);
                    source = target;
                }
                int kb0 = kBlocks * part / splits, kb1 = kBlocks * (part + 1) / splits;
                long outImageAt = Float.BYTES * image * outImage;
                DirectConvKernels.conv(source, cin, hp, wp, r, s, packedAt, outChannels, kb0, kb1,
                        outAt + outImageAt, e.bias, e.scale, e.shift, residualAt == 0 ? 0 : residualAt + outImageAt,
                        e.relu ? 1 : 0);
            }
        });
    }

    private static int blocks(int channels) {
        return (channels + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
    }

    /** The epilogue as the kernel takes it: addresses of per-channel vectors (0 for none) and the residual. */
    private record Epilogue(long bias, long scale, long shift, Tensor residual, boolean relu) {
        static final Epilogue NONE = new Epilogue(0, 0, 0, null, false);
    }

    private Epilogue biasOnly(Tensor bias, int k) {
        float[] b = CpuStorage.toArray(bias);
        epilogueParams.ensure(k);
        epilogueParams.buffer().put(0, b, 0, k);
        return new Epilogue(epilogueParams.pointer().address(), 0, 0, null, false);
    }

    /** Copies the epilogue's vectors (bias, scale, shift: k floats each) into native memory. */
    private Epilogue epilogue(ChannelEpilogue epilogue, int k) {
        epilogueParams.ensure(3L * k);
        long at = epilogueParams.pointer().address();
        float[] bias = epilogue.convBias();
        if (bias != null) epilogueParams.buffer().put(0, bias, 0, k);
        epilogueParams.buffer().put(k, epilogue.scale(), 0, k);
        epilogueParams.buffer().put(2 * k, epilogue.shift(), 0, k);
        return new Epilogue(bias == null ? 0 : at, at + (long) Float.BYTES * k, at + 2L * Float.BYTES * k,
                epilogue.residualTensor(), epilogue.relu());
    }
}
