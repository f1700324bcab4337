package dev.kiln.backend;

/**
 * The geometry of a 2-D convolution (dilation 1, one group): stride and zero padding, per axis.
 *
 * <p>Output size follows PyTorch: {@code out = floor((in + 2 * pad - kernel) / stride) + 1}.
 */
public record Conv2dSpec(int strideH, int strideW, int padH, int padW) {
    public Conv2dSpec {
        if (strideH < 1 || strideW < 1) throw new IllegalArgumentException("conv2d: stride must be >= 1");
        if (padH < 0 || padW < 0) throw new IllegalArgumentException("conv2d: padding must be >= 0");
    }

    public static Conv2dSpec of(int stride, int padding) {
        return new Conv2dSpec(stride, stride, padding, padding);
    }

    public int outH(int inH, int kernelH) {
        return (inH + 2 * padH - kernelH) / strideH + 1;
    }

    public int outW(int inW, int kernelW) {
        return (inW + 2 * padW - kernelW) / strideW + 1;
    }
}
