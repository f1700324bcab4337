package dev.kiln.cuda;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Tensor;

/**
 * The work {@link CudaBackend} hands to NVIDIA's libraries, each call with the {@link dev.kiln.backend.Backend}
 * contract's meaning: cuDNN convolutions (without bias), batch norm, ReLU and softmax, and cuBLAS GEMM.
 * {@link CudnnAndCublas} is the real one; the backend has already turned away the empty shapes these libraries
 * reject.
 */
interface VendorLibraries {

    void convolutionForward(Tensor x, Tensor w, Tensor y, Conv2dSpec spec);

    void convolutionBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec);

    void convolutionBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec);

    /** How many convolution algorithms have been chosen (one per shape and pass). */
    int convolutionAlgorithmsChosen();

    void batchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean,
                                  Tensor runningVar, double momentum, double eps, Tensor saveMean, Tensor saveInvStd);

    void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps, Tensor y);

    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                           Tensor dgamma, Tensor dbeta);

    void relu(Tensor x, Tensor y);

    void softmax(Tensor x, Tensor y);

    void softmaxBackward(Tensor y, Tensor dy, Tensor dx);

    void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c);
}
