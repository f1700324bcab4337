package dev.kiln.backend.cpu;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.IntPointer;

import java.util.ArrayList;
import java.util.List;

/**
 * Convolution forward, backward-data and backward-filter through Kiln's own AVX-512 kernels
 * ({@code src/main/cpp/kiln_direct_conv.h} and {@code kiln_conv_filter_grad.h}, bound by {@link NativeKernels})
 * instead of OpenBLAS, for the shapes where they measured faster ({@code suits...}).
 *
 * <p>At stride 1 it computes what {@link ShiftedGemmConvolution} computes (every tap is a shifted view of a
 * zero-padded input, the output lives on a grid as wide as the padded input), but one register tile at a time:
 * 8 output channels by 48 grid positions summed over every input channel and tap, then stored through the
 * epilogue. No GEMM means no packing of the input, no zeroing and re-reading of the output for each tap, and the
 * bias, batch norm, residual and ReLU applied to values still in cache. A stride t is reduced to stride 1 by
 * splitting each padded channel into t x t phase planes (rows and columns by their remainder mod t): each tap
 * then reads one of them with unit stride. On this machine's Zen 5 it ran the 3x3 convolutions of ResNet50 at
 * 56x56 and 28x28 about twice as fast as OpenBLAS did.
 *
 * <p>Backward-data at stride 1 is the same correlation of dy, padded by R-1-pad, with the weights transposed and
 * their taps flipped ({@code dx = sum W_(R-1-r, S-1-s)^T dy_shifted}); at a larger stride, one such correlation
 * per phase of dx ({@link #backwardData}). Backward-filter turns every weight into one long dot product over the
 * images' grids ({@link #backwardFilter}). Not thread-safe: {@link CpuConvolution} serializes calls.
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
    /**
     * Backward-filter sums over every position of each image's grid, garbage rows included: the least share of
     * them that must be real outputs. 56x56 and 28x28 grids (0.93, 0.87) pass; 14x14 (0.77) does not.
     */
    private static final double MIN_GRID_USE_FILTER = 0.85;
    /** See {@link #suitsBackwardFilter}: the register tile's width in taps. */
    private static final int MIN_TAPS_PER_PHASE = 6;
    /**
     * Backward-filter lays out this many floats of dy grids and input planes at most (4 MiB), a group of images at
     * a time: enough for sums thousands of positions long, little enough to keep peak memory where it was.
     */
    private static final long GROUP_FLOATS = 1 << 20;
    /** The fewest images per backward-filter group (unless the test constructor asks for one). */
    private static final int MIN_GROUP = 2;
    /** Room for moving a workspace's start to a 64-byte boundary. */
    private static final int ALIGN_FLOATS = 16;

    private final Workspace packed = new Workspace();
    private final Workspace planes = new Workspace();
    private final Workspace epilogueParams = new Workspace();
    private final Workspace phaseOut = new Workspace();
    private IntPointer offsets;
    private final long groupFloats;

    DirectConvolution() {
        this(GROUP_FLOATS);
    }

    /** @param groupFloats the most floats backward-filter lays out per group of images (tests make it tiny) */
    DirectConvolution(long groupFloats) {
        this.groupFloats = groupFloats;
    }

    /** Whether the kernel loaded and runs on this CPU. */
    static boolean available() {
        return NativeKernels.AVAILABLE;
    }

    /** Whether the forward of x (N, C, H, W) by w (K, C, R, S) goes through this kernel. */
    static boolean suitsForward(int n, int c, int h, int w, int k, int r, int s, Conv2dSpec spec) {
        if (!available() || n == 0 || c == 0 || k == 0) return false;
        int p = spec.outH(h, r), q = spec.outW(w, s);
        return p > 0 && q > 0 && pays(Reads.forward(c, h, w, r, s, spec), r * s);
    }

    /**
     * Whether backward-data of that convolution goes through this kernel: at stride 1 (one phase, all of dx), or a
     * 1x1 kernel at a larger stride (one phase with taps, the others zeros), where every phase of dx that some tap
     * reaches uses its tiles well. A 3x3 at stride 2 splits into four phases of one to four taps each, and measured
     * no faster than OpenBLAS (batch 16, 128_56_128_3_2_1: 12.9 against 13.5 ms; 256_28_256_3_2_1: 13.2 against
     * 12.4 ms), so it stays there.
     */
    static boolean suitsBackwardData(int n, int c, int h, int w, int k, int r, int s, Conv2dSpec spec) {
        if (!available() || n == 0 || c == 0 || k == 0) return false;
        if (spec.outH(h, r) <= 0 || spec.outW(w, s) <= 0) return false;
        if ((spec.strideH() > 1 || spec.strideW() > 1) && r * s > 1) return false;
        List<Phase> phases = Phase.all(k, h, w, r, s, spec);
        if (phases.isEmpty()) return false;
        for (Phase ph : phases) {
            if (!pays(ph.reads, ph.ma * ph.mb)) return false;
        }
        return true;
    }

    /**
     * Whether backward-filter of that convolution goes through this kernel: kernels with at least
     * {@value #MIN_TAPS_PER_PHASE} taps per phase plane, so that a register tile's six taps read one or two planes
     * (a 3x3 at stride 1, the 7x7 stem at stride 2, but not a 3x3 at stride 2, whose taps scatter over four planes
     * and which measured no faster than OpenBLAS; nor a 1x1, whose weight gradient is one plain GEMM per image),
     * and whose outputs fill at least {@value #MIN_GRID_USE_FILTER} of the grid that carries them.
     */
    static boolean suitsBackwardFilter(int n, int c, int h, int w, int k, int r, int s, Conv2dSpec spec) {
        if (!available() || n == 0 || c == 0 || k == 0) return false;
        Reads reads = Reads.forward(c, h, w, r, s, spec);
        if (reads.p <= 0 || reads.q <= 0) return false;
        if (r * s < MIN_TAPS_PER_PHASE * reads.phasesH() * reads.phasesW()) return false;
        return (double) reads.p * reads.q / ((long) reads.rows() * reads.cols()) >= MIN_GRID_USE_FILTER;
    }

    /** Whether enough of the tiles' lanes do useful work. */
    private static boolean pays(Reads reads, int taps) {
        long gridPositions = (long) reads.p * reads.cols();
        long lanes = (gridPositions + TILE_POSITIONS - 1) / TILE_POSITIONS * TILE_POSITIONS;
        double use = (double) reads.p * reads.q / lanes;
        return use >= (taps == 1 ? MIN_LANE_USE_1X1 : MIN_LANE_USE);
    }

    long workspaceBytes() {
        return packed.bytes() + planes.bytes() + epilogueParams.bytes() + phaseOut.bytes();
    }

    void releaseWorkspaces() {
        packed.release();
        planes.release();
        epilogueParams.release();
        phaseOut.release();
        if (offsets != null) offsets.close();
        offsets = null;
    }

    /**
     * x (N, C, H, W), w (K, C, R, S), y (N, K, P, Q). Each output plane gets + bias (nullable) or, with an
     * epilogue (nullable, which then carries any bias), the epilogue.
     */
    void forward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec, ChannelEpilogue epilogue) {
        int k = w.dim(0), c = w.dim(1), r = w.dim(2), s = w.dim(3);
        packed.ensure((long) blocks(k) * CHANNEL_BLOCK * c * r * s);
        NativeKernels.packWeights(CpuStorage.address(w), k, c, r, s, packed.pointer().address());
        Epilogue e = epilogue != null ? epilogue(epilogue, k) : bias != null ? biasOnly(bias, k) : Epilogue.NONE;
        correlate(x, Reads.forward(c, x.dim(2), x.dim(3), r, s, spec), k, CpuStorage.address(y), e);
    }

    /**
     * dy (N, K, P, Q), w (K, C, R, S), dx (N, C, H, W), overwritten. The transposed convolution, one phase of dx at a
     * time (rows and columns by their remainder mod the stride): pixel (t*u + a, t*v + b) of dx only receives the
     * taps r = r0 (mod t), s = s0 (mod t), so each phase is a stride-1 correlation of dy with those taps, flipped
     * and transposed. At stride 1 that is one correlation, written straight into dx; at larger strides each phase
     * is computed into a workspace and scattered into place, and phases that no tap reaches are zeros.
     */
    void backwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        int k = w.dim(0), c = w.dim(1), r = w.dim(2), s = w.dim(3);
        int n = dx.dim(0), h = dx.dim(2), wd = dx.dim(3), th = spec.strideH(), tw = spec.strideW();
        List<Phase> phases = Phase.all(k, h, wd, r, s, spec);
        long dxAt = CpuStorage.address(dx), dxImage = (long) c * h * wd;
        boolean whole = th == 1 && tw == 1;
        if (!whole) NativeKernels.zero(dxAt, n * dxImage);
        for (Phase ph : phases) {
            packed.ensure((long) blocks(c) * CHANNEL_BLOCK * k * ph.ma * ph.mb);
            NativeKernels.packWeightsPhase(CpuStorage.address(w), k, c, r, s, ph.r0, ph.s0, th, tw, ph.ma, ph.mb,
                    packed.pointer().address());
            if (whole) {
                correlate(dy, ph.reads, c, dxAt, Epilogue.NONE);
                continue;
            }
            int rows = ph.reads.p, cols = ph.reads.q;
            long phaseImage = (long) c * rows * cols;
            phaseOut.ensure(n * phaseImage);
            long phaseAt = phaseOut.pointer().address();
            correlate(dy, ph.reads, c, phaseAt, Epilogue.NONE);
            ParallelLoops.forRange(n, phaseImage, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    NativeKernels.scatterPhase(phaseAt + Float.BYTES * i * phaseImage, c, rows, cols,
                            dxAt + Float.BYTES * i * dxImage, h, wd, ph.a, ph.b, th, tw);
                }
            });
        }
    }

    /**
     * Phase (a, b) of dx in backward-data: its taps r = r0 + t*m for m below ma (and likewise s0, mb), and how the
     * stride-1 correlation that computes it reads dy. dx row t*u + a receives dy row u + base - m from tap m, so
     * dy is padded by ma - 1 - base above (cropped where that is negative).
     */
    private record Phase(int a, int b, int r0, int s0, int ma, int mb, Reads reads) {
        /** The phases of dx (H x W) that have pixels and that some tap reaches. */
        static List<Phase> all(int k, int h, int w, int r, int s, Conv2dSpec spec) {
            List<Phase> phases = new ArrayList<>();
            int th = spec.strideH(), tw = spec.strideW(), p = spec.outH(h, r), q = spec.outW(w, s);
            for (int a = 0; a < th; a++) {
                for (int b = 0; b < tw; b++) {
                    int rows = (h - a + th - 1) / th, cols = (w - b + tw - 1) / tw;
                    int r0 = (a + spec.padH()) % th, s0 = (b + spec.padW()) % tw;
                    int ma = r0 < r ? (r - r0 + th - 1) / th : 0, mb = s0 < s ? (s - s0 + tw - 1) / tw : 0;
                    if (rows <= 0 || cols <= 0 || ma == 0 || mb == 0) continue;
                    int baseA = (a + spec.padH() - r0) / th, baseB = (b + spec.padW() - s0) / tw;
                    Reads reads = new Reads(k, p, q, ma - 1 - baseA, mb - 1 - baseB, 1, 1, ma, mb, rows, cols);
                    phases.add(new Phase(a, b, r0, s0, ma, mb, reads));
                }
            }
            return phases;
        }
    }

    /**
     * x (N, C, H, W), dy (N, K, P, Q), dw (K, C, R, S), overwritten. A group of images' grids are laid end to end,
     * dy's in one workspace and x's phase planes, ordered (phase, channel, image), in another, so that each weight
     * is one long dot product at a fixed offset (kiln_conv_filter_grad.h); the groups' sums add up in dw.
     */
    void backwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        int n = x.dim(0), c = x.dim(1), k = dw.dim(0), r = dw.dim(2), s = dw.dim(3);
        Reads reads = Reads.forward(c, x.dim(2), x.dim(3), r, s, spec);
        long plane = (long) reads.rows() * reads.cols();
        // At least MIN_GROUP images, since the layouts are built in parallel over the group's images (on one core,
        // the stem's took 19.8 instead of 12.5 ms). Not the thread count: the groups set the order of the sums, and
        // the result must not depend on the machine.
        long fits = groupFloats / ((k + reads.planeCount()) * plane);
        int group = (int) Math.min(n, Math.max(fits, groupFloats > 1 ? MIN_GROUP : 1));
        for (int n0 = 0; n0 < n; n0 += group) {
            backwardFilterGroup(x, dy, dw, reads, n0, Math.min(group, n - n0));
        }
    }

    /** Images [n0, n0 + g) into dw: overwriting it for the first group, adding to it for the others. */
    private void backwardFilterGroup(Tensor x, Tensor dy, Tensor dw, Reads reads, int n0, int g) {
        int c = x.dim(1), k = dw.dim(0), r = dw.dim(2), s = dw.dim(3);
        long plane = (long) reads.rows() * reads.cols(), images = g * plane;
        long length = (images + 15) / 16 * 16;
        long xFloats = reads.planeCount() * images;
        // The last rows' reads run past the planes by dy's padding to 16 plus the largest tap offset in a plane.
        long xTail = (length - images) + (long) (r / reads.strideH + 1) * reads.cols() + s + 16;
        // One workspace holds x's planes, then dy's grid, each starting on a cache line (so dy's loads are aligned).
        long gridStart = (xFloats + xTail + 15) / 16 * 16;
        planes.ensure(gridStart + k * length + ALIGN_FLOATS);
        long xAt = aligned(planes), gridAt = xAt + Float.BYTES * gridStart;
        long inImage = (long) c * x.dim(2) * x.dim(3), dyImage = (long) k * reads.p * reads.q;
        long xIn = CpuStorage.address(x) + Float.BYTES * n0 * inImage;
        long dyIn = CpuStorage.address(dy) + Float.BYTES * n0 * dyImage;
        ParallelLoops.forRange(g, (long) reads.planeCount() * plane, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                reads.build(xIn + Float.BYTES * i * inImage, images, c * images, xAt + Float.BYTES * i * plane);
                NativeKernels.phasePlanes(dyIn + Float.BYTES * i * dyImage, k, reads.p, reads.q, 0, 0, 1, 1, 1, 1,
                        reads.rows(), reads.cols(), length, 0, gridAt + Float.BYTES * i * plane);
            }
        });
        // Past the images: dy's rows up to a multiple of 16, and what x's last reads reach. Both must be 0 (finite).
        for (int row = 0; row < k; row++) {
            NativeKernels.zero(gridAt + Float.BYTES * (row * length + images), length - images);
        }
        NativeKernels.zero(xAt + Float.BYTES * xFloats, xTail);
        int taps = c * r * s, tiles = (k + 3) / 4, accumulate = n0 > 0 ? 1 : 0;
        long offsetsAt = offsets(reads.stackedRows(g)), columnsAt = offsetsAt + (long) Integer.BYTES * taps;
        long dwAt = CpuStorage.address(dw);
        ParallelLoops.forRange(tiles, length * taps, (t0, t1) -> NativeKernels.convFilterGrad(gridAt, length, xAt,
                offsetsAt, columnsAt, taps, 4 * t0, Math.min(k, 4 * t1), dwAt, accumulate));
    }

    /**
     * How a correlation reads its input (channels of h x w): zero-padded and split into phase planes of rows x
     * cols (cols is also the width of the output grid), or in place where stride 1 and no padding leave the
     * input as it is. Output: p x q per channel.
     */
    private record Reads(int channels, int h, int w, int padH, int padW, int strideH, int strideW, int r, int s,
                         int p, int q) {
        static Reads forward(int c, int h, int w, int r, int s, Conv2dSpec spec) {
            return new Reads(c, h, w, spec.padH(), spec.padW(), spec.strideH(), spec.strideW(), r, s,
                    spec.outH(h, r), spec.outW(w, s));
        }

        /** Only the phases that some tap reads: a 1x1 kernel at stride 2 reads one in four pixels. */
        int phasesH() {
            return Math.min(strideH, r);
        }

        int phasesW() {
            return Math.min(strideW, s);
        }

        int rows() {
            return p + (r - 1) / strideH;
        }

        int cols() {
            return q + (s - 1) / strideW;
        }

        boolean inPlace() {
            return strideH == 1 && strideW == 1 && padH == 0 && padW == 0 && rows() == h && cols() == w;
        }

        int planeCount() {
            return channels * phasesH() * phasesW();
        }

        long imageFloats() {
            return inPlace() ? (long) channels * h * w : (long) planeCount() * rows() * cols();
        }

        /**
         * Grid positions whose taps stay inside the input: in place, the last row's garbage columns would read
         * past the last channel; the phase planes get slack behind them instead.
         */
        int readable() {
            return p * cols() - (inPlace() ? s - 1 : 0);
        }

        /** Floats past the last image's planes that garbage lanes may read. */
        int slack() {
            return cols() + TILE_POSITIONS;
        }

        /** Where row (c, r, s) of the packed weights reads, relative to the grid position. */
        int[] offsets() {
            int taps = channels * r * s;
            int[] at = new int[taps];
            long plane = (long) rows() * cols();
            for (int c = 0, i = 0; c < channels; c++) {
                for (int dr = 0; dr < r; dr++) {
                    for (int ds = 0; ds < s; ds++, i++) {
                        long phase = ((long) c * phasesH() + dr % strideH) * phasesW() + ds % strideW;
                        at[i] = Math.toIntExact(phase * plane + (long) (dr / strideH) * cols() + ds / strideW);
                    }
                }
            }
            return at;
        }

        /** Builds the phase planes of one image, each channel's planes together (the forward's layout). */
        void build(long image, long target) {
            long plane = (long) rows() * cols();
            build(image, phasesH() * phasesW() * plane, plane, target);
        }

        /** Builds one image's phase planes, plane (c, phase) at target + c * channelStride + phase * phaseStride. */
        void build(long image, long channelStride, long phaseStride, long target) {
            NativeKernels.phasePlanes(image, channels, h, w, padH, padW, strideH, strideW, phasesH(), phasesW(),
                    rows(), cols(), channelStride, phaseStride, target);
        }

        /**
         * The rows of the weight gradient for n images: first, where each row (c, r, s) reads in their planes,
         * ordered (phase, channel, image), relative to the position on the images' grids laid end to end; then the
         * column of dW that each row is. Rows go channel by channel and, within a channel, phase by phase, so that
         * a register tile's neighbouring taps read the same plane (at stride 2 the stem's 7x7 taps alternate
         * between planes along a row otherwise).
         */
        int[] stackedRows(int n) {
            int taps = channels * r * s;
            int[] rows = new int[2 * taps];
            long images = (long) n * rows() * cols();
            int i = 0;
            for (int c = 0; c < channels; c++) {
                for (int a = 0; a < phasesH(); a++) {
                    for (int b = 0; b < phasesW(); b++) {
                        long phase = (long) a * phasesW() + b;
                        for (int dr = a; dr < r; dr += strideH) {
                            for (int ds = b; ds < s; ds += strideW, i++) {
                                rows[i] = Math.toIntExact((phase * channels + c) * images
                                        + (long) (dr / strideH) * cols() + ds / strideW);
                                rows[taps + i] = (c * r + dr) * s + ds;
                            }
                        }
                    }
                }
            }
            return rows;
        }
    }

    /**
     * out (N, outChannels, P, Q), at outAt = the packed weights correlated with in, read as {@code reads} says. Work is
     * split by image, and by block of output channels when there are fewer images than threads. Where each unit
     * is one whole image, it builds its image's planes right before using them, while they are still in cache,
     * in a slot of its thread's own (so the workspace holds one image per thread, not the batch).
     */
    private void correlate(Tensor in, Reads reads, int outChannels, long outAt, Epilogue e) {
        int n = in.dim(0);
        long inImage = (long) in.dim(1) * in.dim(2) * in.dim(3), planeImage = reads.imageFloats();
        long outImage = (long) outChannels * reads.p * reads.q;
        int kBlocks = blocks(outChannels), threads = CpuThreads.count();
        int splits = n >= threads ? 1 : Math.min(kBlocks, (threads + n - 1) / n);
        boolean inPlace = reads.inPlace();
        long inAt = CpuStorage.address(in), packedAt = packed.pointer().address();
        long planesAt = 0;
        if (!inPlace) {
            int slots = splits == 1 ? Math.min(n, threads) : n;
            planes.ensure(slots * slotFloats(reads) + reads.slack() + ALIGN_FLOATS);
            planesAt = aligned(planes);
        }
        int[] rowOffsets = reads.offsets();
        long offsetsAt = offsets(rowOffsets);
        long residualAt = e.residual == null ? 0 : CpuStorage.address(e.residual);
        final long planesBase = planesAt;
        if (!inPlace && splits > 1) {
            ParallelLoops.forRange(n, planeImage, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    reads.build(inAt + Float.BYTES * i * inImage, planesBase + Float.BYTES * i * slotFloats(reads));
                }
            });
        }
        long workPerUnit = planeImage * kBlocks / splits;
        ParallelLoops.forChunks(n * splits, workPerUnit, (chunk, u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int image = u / splits, part = u % splits;
                long source = inAt + Float.BYTES * image * inImage;
                if (!inPlace) {
                    long target = planesBase + Float.BYTES * (splits == 1 ? chunk : image) * slotFloats(reads);
                    if (splits == 1) reads.build(source, target);
                    source = target;
                }
                int kb0 = kBlocks * part / splits, kb1 = kBlocks * (part + 1) / splits;
                long outImageAt = Float.BYTES * image * outImage;
                NativeKernels.conv(source, reads.planeCount(), offsetsAt, rowOffsets.length, packedAt,
                        outChannels, kb0, kb1, reads.cols(), reads.p, reads.q, reads.readable(),
                        outAt + outImageAt, e.bias, e.scale, e.shift,
                        residualAt == 0 ? 0 : residualAt + outImageAt, e.relu ? 1 : 0);
            }
        });
    }

    /**
     * Floats between two images' planes: their size plus the slack that the garbage lanes of one image may read,
     * so that no thread reads a slot that another is writing; rounded to whole cache lines.
     */
    private static long slotFloats(Reads reads) {
        return (reads.imageFloats() + reads.slack() + 15) / 16 * 16;
    }

    /** The workspace's first address on a 64-byte boundary (malloc gives 16), for aligned vector loads. */
    private static long aligned(Workspace w) {
        long at = w.pointer().address();
        return (at + 63) & ~63L;
    }

    /** The offsets in native memory, grown as needed. */
    private long offsets(int[] values) {
        if (offsets == null || offsets.capacity() < values.length) {
            if (offsets != null) offsets.close();
            offsets = new IntPointer(Math.max(values.length, 1024));
        }
        offsets.put(values, 0, values.length);
        return offsets.address();
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
