package dev.kiln.cuda;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Tensor;

/** {@link VendorLibraries} on a GPU: each call goes to the class that wraps that part of cuDNN or cuBLAS. */
final class CudnnAndCublas implements VendorLibraries {
    private final CudnnConvolution convolution;
    private final CudnnBatchNorm batchNorm;
    private final CudnnPointwise pointwise;
    private final CublasGemm gemm;

    CudnnAndCublas(CudaDevice device, CachingDeviceAllocator memory, CudaConfig config) {
        this.convolution = new CudnnConvolution(device, memory, config);
        this.batchNorm = new CudnnBatchNorm(device, memory);
        this.pointwise = new CudnnPointwise(device);
        this.gemm = new CublasGemm(device);
    }

    @Override
    public void convolutionForward(Tensor x, Tensor w, Tensor y, Conv2dSpec spec) {
        convolution.forward(x, w, y, spec);
    }

    @Override
    public void convolutionBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        convolution.backwardData(dy, w, dx, spec);
    }

    @Override
    public void convolutionBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        convolution.backwardFilter(x, dy, dw, spec);
    }

    @Override
    public int convolutionAlgorithmsChosen() {
        return convolution.algorithms().size();
    }

    @Override
    public void batchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean,
                                         Tensor runningVar, double momentum, double eps, Tensor saveMean,
                                         Tensor saveInvStd) {
        batchNorm.forwardTraining(x, gamma, beta, y, runningMean, runningVar, momentum, eps, saveMean, saveInvStd);
    }

    @Override
    public void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                          Tensor y) {
        batchNorm.forwardInference(x, gamma, beta, mean, var, eps, y);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        batchNorm.backward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        pointwise.relu(x, y);
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        pointwise.softmax(x, y);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        pointwise.softmaxBackward(y, dy, dx);
    }

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        gemm.gemm(transA, transB, alpha, a, b, beta, c);
    }
}
