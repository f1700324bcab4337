package dev.kiln.cuda;

import dev.kiln.tensor.Tensor;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.FloatPointer;

import static dev.kiln.cuda.CudaTensors.address;
import static dev.kiln.cuda.CudaTensors.addressOrNull;
import static dev.kiln.cuda.DevicePointers.at;

/**
 * Per-channel batch normalization with cuDNN's spatial mode, for x of shape (N, C, H, W) or (N, C).
 *
 * <p>cuDNN matches the contract: {@code exponentialAverageFactor} is PyTorch's momentum
 * ({@code running = (1 - f) * running + f * batch}), the running variance is updated with the unbiased batch
 * variance, and the saved "inverse variance" is 1 / sqrt(var + eps).
 */
final class CudnnBatchNorm {
    /**
     * The epsilon passed to the backward pass, which the contract does not carry. cuDNN uses the saved inverse
     * standard deviation from the forward pass, so the value does not enter the result.
     */
    private static final double BACKWARD_EPSILON = 1e-5;

    private final CudaDevice device;
    private final CachingDeviceAllocator memory;

    CudnnBatchNorm(CudaDevice device, CachingDeviceAllocator memory) {
        this.device = device;
        this.memory = memory;
    }

    void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean, Tensor runningVar,
                         double momentum, double eps, Tensor saveMean, Tensor saveInvStd) {
        String context = "batchNormForwardTraining x" + x.shape();
        int[] d = CudnnDescriptors.nchw(x.shape());
        try (CudnnDescriptors.Tensor4d xd = new CudnnDescriptors.Tensor4d(d);
             CudnnDescriptors.Tensor4d pd = new CudnnDescriptors.Tensor4d(1, d[1], 1, 1);
             FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            // Running statistics and saved statistics may each be NULL, but only as a pair.
            long rm = runningVar == null ? 0 : addressOrNull(runningMean);
            long rv = runningMean == null ? 0 : addressOrNull(runningVar);
            long sm = saveInvStd == null ? 0 : addressOrNull(saveMean);
            long si = saveMean == null ? 0 : addressOrNull(saveInvStd);
            CudaStatus.check("cudnnBatchNormalizationForwardTraining", cudnn.cudnnBatchNormalizationForwardTraining(
                    device.cudnn(), cudnn.CUDNN_BATCHNORM_SPATIAL, one, zero, xd.handle, at(address(x)), xd.handle,
                    at(address(y)), pd.handle, at(address(gamma)), at(address(beta)), momentum, at(rm), at(rv), eps,
                    at(sm), at(si)), context);
        }
    }

    void forwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps, Tensor y) {
        String context = "batchNormForwardInference x" + x.shape();
        int[] d = CudnnDescriptors.nchw(x.shape());
        try (CudnnDescriptors.Tensor4d xd = new CudnnDescriptors.Tensor4d(d);
             CudnnDescriptors.Tensor4d pd = new CudnnDescriptors.Tensor4d(1, d[1], 1, 1);
             FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            CudaStatus.check("cudnnBatchNormalizationForwardInference", cudnn.cudnnBatchNormalizationForwardInference(
                    device.cudnn(), cudnn.CUDNN_BATCHNORM_SPATIAL, one, zero, xd.handle, at(address(x)), xd.handle,
                    at(address(y)), pd.handle, at(address(gamma)), at(address(beta)), at(address(mean)),
                    at(address(var)), eps), context);
        }
    }

    /** Training-mode gradients. cuDNN writes all three outputs, so a null one gets a scratch buffer. */
    void backward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                  Tensor dbeta) {
        String context = "batchNormBackward x" + x.shape();
        int[] d = CudnnDescriptors.nchw(x.shape());
        long paramBytes = (long) d[1] * Float.BYTES;
        try (CudnnDescriptors.Tensor4d xd = new CudnnDescriptors.Tensor4d(d);
             CudnnDescriptors.Tensor4d pd = new CudnnDescriptors.Tensor4d(1, d[1], 1, 1);
             Scratch dxOut = new Scratch(dx, x.numel() * Float.BYTES, context);
             Scratch dgOut = new Scratch(dgamma, paramBytes, context);
             Scratch dbOut = new Scratch(dbeta, paramBytes, context);
             FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            CudaStatus.check("cudnnBatchNormalizationBackward", cudnn.cudnnBatchNormalizationBackward(device.cudnn(),
                    cudnn.CUDNN_BATCHNORM_SPATIAL, one, zero, one, zero, xd.handle, at(address(x)), xd.handle,
                    at(address(dy)), xd.handle, at(dxOut.address), pd.handle, at(address(gamma)),
                    at(dgOut.address), at(dbOut.address), BACKWARD_EPSILON, at(address(saveMean)),
                    at(address(saveInvStd))), context);
        }
    }

    /** The tensor's address, or a temporary block when the tensor is null. */
    private final class Scratch implements AutoCloseable {
        final long address;
        private final CachingDeviceAllocator.Block block;

        Scratch(Tensor t, long bytes, String context) {
            block = t == null ? memory.allocate(bytes, context + " scratch") : null;
            address = t == null ? block.address() : address(t);
        }

        @Override
        public void close() {
            if (block != null) memory.release(block);
        }
    }
}
