package dev.kiln.backend;

/**
 * The geometry of a 2-D max pool: square window, stride, padding (acting as -infinity) and PyTorch's
 * {@code ceil_mode}, which keeps a last, partial window as long as it starts inside the input or left padding.
 */
public record Pool2dSpec(int kernel, int stride, int padding, boolean ceilMode) {
    public Pool2dSpec {
        if (kernel < 1 || stride < 1) throw new IllegalArgumentException("max_pool2d: kernel and stride must be >= 1");
        if (padding < 0 || 2 * padding > kernel) {
            throw new IllegalArgumentException("max_pool2d: padding must be between 0 and kernel/2, got " + padding);
        }
    }

    /** Output length along one axis, as {@code torch.nn.functional.max_pool2d} computes it. */
    public int outSize(int in) {
        int span = in + 2 * padding - kernel;
        int out = (ceilMode ? Math.floorDiv(span + stride - 1, stride) : Math.floorDiv(span, stride)) + 1;
        // ceil_mode must not start a window in the right padding.
        if (ceilMode && (out - 1) * stride >= in + padding) out--;
        return out;
    }
}
