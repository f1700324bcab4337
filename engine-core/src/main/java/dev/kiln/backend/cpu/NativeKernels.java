package dev.kiln.backend.cpu;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

import java.util.logging.Logger;

/**
 * The JNI binding of Kiln's own CPU kernels in {@code src/main/cpp}: the direct convolution
 * ({@code kiln_direct_conv.h}), its weight gradient ({@code kiln_conv_filter_grad.h}), a dense layer's GEMMs at
 * a small batch ({@code kiln_skinny_gemm.h}) and batch norm's training passes ({@code kiln_batch_norm.h}). The build
 * compiles them with JavaCPP's Builder where a C++ compiler exists (Maven profile {@code native-kernels}, on when
 * {@code /usr/bin/g++} does) into {@code libjniNativeKernels.so} beside this class. Without the library, or on a
 * CPU without AVX-512, {@link #AVAILABLE} is false and the CPU backend keeps to OpenBLAS.
 *
 * <p>Pointers travel as raw addresses ({@code long}), so a tensor at any offset in its storage needs no
 * {@code FloatPointer} per call; 0 is C's null.
 */
@Platform(include = {"kiln_direct_conv.h", "kiln_conv_filter_grad.h", "kiln_skinny_gemm.h", "kiln_batch_norm.h"})
final class NativeKernels {
    private static final Logger LOG = Logger.getLogger(NativeKernels.class.getName());

    /** Whether the kernels loaded and this CPU runs them; decided once. */
    static final boolean AVAILABLE = load();

    private NativeKernels() {
    }

    private static boolean load() {
        if ("false".equals(System.getProperty("kiln.cpu.native", "true"))) return false;
        try {
            Loader.load();
            if (supported() == 1) return true;
            LOG.info("cpu backend: this CPU lacks AVX-512; Kiln's native kernels are off");
        } catch (Throwable t) {
            LOG.info("cpu backend: Kiln's native kernels did not load (" + t
                    + "); the CPU backend uses OpenBLAS and Java loops only. Build with g++ present to get them.");
        }
        return false;
    }

    @Name("kiln_direct_conv_supported")
    private static native int supported();

    /** See kiln_pack_weights: w (K, C, R, S) into (ceil(K/8), C, R, S, 8). */
    @Name("kiln_pack_weights")
    static native void packWeights(@Cast("const float*") long w, int k, int c, int r, int s,
                                   @Cast("float*") long packed);

    /** See kiln_pack_weights_phase: the flipped W^T taps of one phase of backward-data. */
    @Name("kiln_pack_weights_phase")
    static native void packWeightsPhase(@Cast("const float*") long w, int k, int c, int r, int s, int r0, int s0,
                                        int strideH, int strideW, int taps0, int taps1, @Cast("float*") long packed);

    /** See kiln_scatter_phase: C planes of rows x cols into phase (a, b) of C planes of H x W. */
    @Name("kiln_scatter_phase")
    static native void scatterPhase(@Cast("const float*") long src, int c, int rows, int cols, @Cast("float*") long out,
                                    int h, int w, int a, int b, int strideH, int strideW);

    /** See kiln_phase_planes: C planes of H x W, zero-padded, split into the phase planes of a stride. */
    @Name("kiln_phase_planes")
    static native void phasePlanes(@Cast("const float*") long x, int c, int h, int w, int padH, int padW,
                                   int strideH, int strideW, int phasesH, int phasesW, int rows, int cols,
                                   long channelStride, long phaseStride, @Cast("float*") long planes);

    /** See kiln_direct_conv: output-channel blocks [kb0, kb1) of one image, with its epilogue. */
    @Name("kiln_direct_conv")
    static native void conv(@Cast("const float*") long x, int planes, @Cast("const int*") long offsets, int taps,
                            @Cast("const float*") long packed, int k, int kb0, int kb1, int gridWidth, int p, int q,
                            int readable, @Cast("float*") long y, @Cast("const float*") long bias,
                            @Cast("const float*") long scale, @Cast("const float*") long shift,
                            @Cast("const float*") long residual, int relu);

    /** See kiln_gemm_abt_skinny: c (M, N) = a (M, K) b (N, K)^T, columns [n0, n1) of c. */
    @Name("kiln_gemm_abt_skinny")
    static native void gemmABtSkinny(@Cast("const float*") long a, int m, long k, @Cast("const float*") long b, int n0,
                                     int n1, @Cast("float*") long c, int n);

    /** See kiln_gemm_atb_skinny: c (N, K) = a (M, N)^T b (M, K), rows [n0, n1) of c. */
    @Name("kiln_gemm_atb_skinny")
    static native void gemmAtBSkinny(@Cast("const float*") long a, int m, int n, @Cast("const float*") long b, long k,
                                     int n0, int n1, @Cast("float*") long c);

    /** See kiln_zero: n floats at p set to 0. */
    @Name("kiln_zero")
    static native void zero(@Cast("float*") long p, long n);

    /** See kiln_conv_filter_grad: rows [k0, k1) of dW (+)= dy (K, L) correlated with x at the offsets. */
    @Name("kiln_conv_filter_grad")
    static native void convFilterGrad(@Cast("const float*") long dy, long l, @Cast("const float*") long x,
                                      @Cast("const int*") long offsets, @Cast("const int*") long columns, int t,
                                      int k0, int k1, @Cast("float*") long dw, int accumulate);

    /** See kiln_bn_forward_training: channels [c0, c1), writing their means and biased variances. */
    @Name("kiln_bn_forward_training")
    static native void batchNormForwardTraining(@Cast("const float*") long x, @Cast("const float*") long residual,
                                                @Cast("float*") long y, int n, int c, long plane,
                                                @Cast("const float*") long gamma, @Cast("const float*") long beta,
                                                double eps, int relu, int c0, int c1, @Cast("double*") long mean,
                                                @Cast("double*") long var);

    /** See kiln_bn_backward: channels [c0, c1) of dx, dres, dgamma and dbeta (each nullable). */
    @Name("kiln_bn_backward")
    static native void batchNormBackward(@Cast("const float*") long x, @Cast("const float*") long z,
                                         @Cast("const float*") long dy, @Cast("float*") long dx,
                                         @Cast("float*") long dres, int n, int c, long plane,
                                         @Cast("const double*") long mean, @Cast("const double*") long invStd,
                                         @Cast("const float*") long gamma, int training, int c0, int c1,
                                         @Cast("double*") long dgamma, @Cast("double*") long dbeta);
}
