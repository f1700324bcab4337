package dev.kiln.backend.cpu;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

import java.util.logging.Logger;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;

/**
 * The one place that calls OpenBLAS. Loading sets its thread count explicitly ({@link CpuThreads}); the core type
 * (OPENBLAS_CORETYPE) and how long idle threads spin (OPENBLAS_THREAD_TIMEOUT) are read by OpenBLAS itself from the
 * environment when the library loads, and cannot be changed from Java.
 */
final class Blas {
    private static final Logger LOG = Logger.getLogger(Blas.class.getName());

    static {
        Loader.load(openblas_nolapack.class);
        openblas_nolapack.blas_set_num_threads(CpuThreads.count());
        if (CpuThreads.count() > 1 && System.getenv("OPENBLAS_THREAD_TIMEOUT") == null) {
            // Measured: ResNet50 steps 13-25% slower, batch norm and pooling about 2x (bench/README.md).
            LOG.info("OPENBLAS_THREAD_TIMEOUT is unset: OpenBLAS's idle threads will spin about 80 ms after each"
                    + " GEMM and halve the speed of the CPU kernels in between; the kiln launcher sets it to 14");
        }
    }

    private Blas() {
    }

    /** Forces the native library to load (and fail here, with its own message, when it cannot). */
    static void init() {
    }

    static int threads() {
        return openblas_nolapack.blas_get_num_threads();
    }

    /**
     * Row-major {@code C = alpha * op(A) op(B) + beta * C}, where op(A) is (m, k), op(B) (k, n), C (m, n), and each
     * matrix starts {@code xOff} floats into its pointer. With beta = 0, C is overwritten (garbage and NaN
     * included).
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      FloatPointer a, long aOff, int lda, FloatPointer b, long bOff, int ldb,
                      float beta, FloatPointer c, long cOff, int ldc) {
        if (m == 0 || n == 0) return;
        // Views with a position: JavaCPP passes address + position to C; the view keeps the owner alive.
        FloatPointer pa = new FloatPointer(a).position(aOff);
        FloatPointer pb = new FloatPointer(b).position(bOff);
        FloatPointer pc = new FloatPointer(c).position(cOff);
        openblas_nolapack.cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, pa, Math.max(1, lda), pb, Math.max(1, ldb),
                beta, pc, Math.max(1, ldc));
    }

    /** {@code y += alpha * x} over n contiguous floats, each starting {@code xOff}/{@code yOff} into its pointer. */
    static void saxpy(long n, float alpha, FloatPointer x, long xOff, FloatPointer y, long yOff) {
        // cblas takes an int count: long vectors go in int-sized pieces.
        for (long done = 0; done < n; ) {
            int len = (int) Math.min(n - done, Integer.MAX_VALUE);
            openblas_nolapack.cblas_saxpy(len, alpha, new FloatPointer(x).position(xOff + done), 1,
                    new FloatPointer(y).position(yOff + done), 1);
            done += len;
        }
    }
}
