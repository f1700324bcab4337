package dev.kiln.cuda;

import dev.kiln.tensor.Shape;
import org.bytedeco.cuda.cudnn.cudnnActivationStruct;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;

/**
 * cuDNN descriptors as {@link AutoCloseable}s, created per call in try-with-resources (they are host-side
 * structs, cheap to make). All describe float32 NCHW data.
 */
final class CudnnDescriptors {
    private CudnnDescriptors() {
    }

    /** (N, C, H, W) for a shape of rank 1 to 4: (C) is (1, C, 1, 1), (N, C) is (N, C, 1, 1), (N, C, L) is (N, C, L, 1). */
    static int[] nchw(Shape shape) {
        int[] d = shape.toArray();
        return switch (d.length) {
            case 1 -> new int[] {1, d[0], 1, 1};
            case 2 -> new int[] {d[0], d[1], 1, 1};
            case 3 -> new int[] {d[0], d[1], d[2], 1};
            case 4 -> d;
            default -> throw new IllegalArgumentException("cuDNN path: expected a tensor of rank 1 to 4, got " + shape);
        };
    }

    static final class Tensor4d implements AutoCloseable {
        final cudnnTensorStruct handle = new cudnnTensorStruct();

        Tensor4d(int n, int c, int h, int w) {
            CudaStatus.check("cudnnCreateTensorDescriptor", cudnn.cudnnCreateTensorDescriptor(handle), "descriptor");
            CudaStatus.check("cudnnSetTensor4dDescriptor", cudnn.cudnnSetTensor4dDescriptor(handle,
                    cudnn.CUDNN_TENSOR_NCHW, cudnn.CUDNN_DATA_FLOAT, n, c, h, w), "tensor (" + n + ", " + c + ", " + h + ", " + w + ")");
        }

        Tensor4d(int[] nchw) {
            this(nchw[0], nchw[1], nchw[2], nchw[3]);
        }

        @Override
        public void close() {
            cudnn.cudnnDestroyTensorDescriptor(handle);
        }
    }

    static final class Filter4d implements AutoCloseable {
        final cudnnFilterStruct handle = new cudnnFilterStruct();

        /** Weights (K, C, R, S), OIHW. */
        Filter4d(int k, int c, int r, int s) {
            CudaStatus.check("cudnnCreateFilterDescriptor", cudnn.cudnnCreateFilterDescriptor(handle), "descriptor");
            // Unlike the tensor descriptor, the data type comes before the format here.
            CudaStatus.check("cudnnSetFilter4dDescriptor", cudnn.cudnnSetFilter4dDescriptor(handle,
                    cudnn.CUDNN_DATA_FLOAT, cudnn.CUDNN_TENSOR_NCHW, k, c, r, s), "filter (" + k + ", " + c + ", " + r + ", " + s + ")");
        }

        @Override
        public void close() {
            cudnn.cudnnDestroyFilterDescriptor(handle);
        }
    }

    static final class Convolution2d implements AutoCloseable {
        final cudnnConvolutionStruct handle = new cudnnConvolutionStruct();

        /** Cross-correlation (what deep learning calls convolution), dilation 1, float accumulation. */
        Convolution2d(int padH, int padW, int strideH, int strideW, int mathType) {
            CudaStatus.check("cudnnCreateConvolutionDescriptor", cudnn.cudnnCreateConvolutionDescriptor(handle), "descriptor");
            CudaStatus.check("cudnnSetConvolution2dDescriptor", cudnn.cudnnSetConvolution2dDescriptor(handle,
                    padH, padW, strideH, strideW, 1, 1, cudnn.CUDNN_CROSS_CORRELATION, cudnn.CUDNN_DATA_FLOAT), "convolution");
            setMathType(mathType);
        }

        void setMathType(int mathType) {
            CudaStatus.check("cudnnSetConvolutionMathType", cudnn.cudnnSetConvolutionMathType(handle, mathType), "convolution");
        }

        @Override
        public void close() {
            cudnn.cudnnDestroyConvolutionDescriptor(handle);
        }
    }

    static final class Activation implements AutoCloseable {
        final cudnnActivationStruct handle = new cudnnActivationStruct();

        /** ReLU that lets NaN through, as torch.relu does. */
        static Activation relu() {
            return new Activation(cudnn.CUDNN_ACTIVATION_RELU);
        }

        private Activation(int mode) {
            CudaStatus.check("cudnnCreateActivationDescriptor", cudnn.cudnnCreateActivationDescriptor(handle), "descriptor");
            CudaStatus.check("cudnnSetActivationDescriptor",
                    cudnn.cudnnSetActivationDescriptor(handle, mode, cudnn.CUDNN_PROPAGATE_NAN, 0.0), "activation");
        }

        @Override
        public void close() {
            cudnn.cudnnDestroyActivationDescriptor(handle);
        }
    }
}
