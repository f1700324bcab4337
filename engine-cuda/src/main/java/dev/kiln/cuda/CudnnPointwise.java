package dev.kiln.cuda;

import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.FloatPointer;

import static dev.kiln.cuda.CudaTensors.address;
import static dev.kiln.cuda.DevicePointers.at;

/** The cuDNN ops that need no workspace or state: ReLU forward and row softmax. */
final class CudnnPointwise {
    private final CudaDevice device;

    CudnnPointwise(CudaDevice device) {
        this.device = device;
    }

    /** y = max(x, 0); any shape, described to cuDNN as a flat (1, n, 1, 1) tensor. */
    void relu(Tensor x, Tensor y) {
        long n = x.numel();
        if (n == 0) return;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("relu: " + n + " elements exceed cuDNN's int sizes");
        try (CudnnDescriptors.Tensor4d d = new CudnnDescriptors.Tensor4d(1, (int) n, 1, 1);
             CudnnDescriptors.Activation relu = CudnnDescriptors.Activation.relu();
             FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            CudaStatus.check("cudnnActivationForward", cudnn.cudnnActivationForward(device.cudnn(), relu.handle, one,
                    d.handle, at(address(x)), zero, d.handle, at(address(y))), "reluForward x" + x.shape());
        }
    }

    /** y = softmax of each row of x (N, K), max-subtracted (CUDNN_SOFTMAX_ACCURATE). */
    void softmax(Tensor x, Tensor y) {
        Shape s = x.shape();
        try (CudnnDescriptors.Tensor4d d = new CudnnDescriptors.Tensor4d(s.dim(0), s.dim(1), 1, 1);
             FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            CudaStatus.check("cudnnSoftmaxForward", cudnn.cudnnSoftmaxForward(device.cudnn(),
                    cudnn.CUDNN_SOFTMAX_ACCURATE, cudnn.CUDNN_SOFTMAX_MODE_INSTANCE, one, d.handle, at(address(x)),
                    zero, d.handle, at(address(y))), "softmax x" + x.shape());
        }
    }

    /** dx = y * (dy - <dy, y>) per row of (N, K): cudnnSoftmaxBackward on the output y. */
    void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        Shape s = y.shape();
        try (CudnnDescriptors.Tensor4d d = new CudnnDescriptors.Tensor4d(s.dim(0), s.dim(1), 1, 1);
             FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            CudaStatus.check("cudnnSoftmaxBackward", cudnn.cudnnSoftmaxBackward(device.cudnn(),
                    cudnn.CUDNN_SOFTMAX_ACCURATE, cudnn.CUDNN_SOFTMAX_MODE_INSTANCE, one, d.handle, at(address(y)),
                    d.handle, at(address(dy)), zero, d.handle, at(address(dx))), "softmax backward y" + y.shape());
        }
    }
}
