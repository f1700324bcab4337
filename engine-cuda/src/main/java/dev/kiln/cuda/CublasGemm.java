package dev.kiln.cuda;

import dev.kiln.tensor.Tensor;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;

import static dev.kiln.cuda.CudaTensors.address;
import static dev.kiln.cuda.DevicePointers.floatsAt;

/**
 * Row-major GEMM on column-major cuBLAS. A row-major (r x c) matrix is, byte for byte, the column-major (c x r)
 * matrix of its transpose, so instead of C = op(A) op(B) we ask cuBLAS for C^T = op(B)^T op(A)^T: B comes
 * first, A second, the transpose flags stay with their matrices, and every leading dimension is the row length as
 * stored.
 */
final class CublasGemm {
    private final CudaDevice device;

    CublasGemm(CudaDevice device) {
        this.device = device;
    }

    /** c (M x N) = alpha * op(a) op(b) + beta * c; a is (M x K) or, transposed, (K x M); b is (K x N) or (N x K). */
    void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        int m = c.dim(0);
        int n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        if (m == 0 || n == 0) return;
        String context = "gemm a" + a.shape() + (transA ? "^T" : "") + " b" + b.shape() + (transB ? "^T" : "")
                + " c" + c.shape();
        try (FloatPointer alphaHost = new FloatPointer((float) alpha);
             FloatPointer betaHost = new FloatPointer((float) beta)) {
            CudaStatus.check("cublasSgemm_v2", cublas.cublasSgemm_v2(device.cublas(),
                    transB ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
                    transA ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
                    n, m, k,
                    alphaHost,
                    floatsAt(address(b)), Math.max(1, b.dim(1)),
                    floatsAt(address(a)), Math.max(1, a.dim(1)),
                    betaHost,
                    floatsAt(address(c)), n), context);
        }
    }
}
