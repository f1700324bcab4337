package dev.kiln.models;

import dev.kiln.nn.BatchNormalization;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.tensor.Tensor;

/**
 * ResNet's bottleneck block: 1×1 conv to {@code planes} channels, 3×3 conv, 1×1 conv to 4·planes, each followed by
 * BatchNorm, ReLU between them, and a residual connection: {@code y = relu(bn3(conv3(...)) + shortcut(x))}. The
 * shortcut is the identity, or a strided 1×1 conv and BatchNorm ({@code downsample}) when the shape changes.
 *
 * <p>Children are named as torchvision names them: conv1, bn1, conv2, bn2, conv3, bn3, downsample.0,
 * downsample.1.
 */
public final class Bottleneck extends Layer {
    public static final int EXPANSION = 4;

    private final Conv2D conv1;
    private final BatchNormalization bn1;
    private final Conv2D conv2;
    private final BatchNormalization bn2;
    private final Conv2D conv3;
    private final BatchNormalization bn3;
    /** The shortcut's conv and BatchNorm, children of a Sequential named downsample (torchvision's names), or null. */
    private final Conv2D downsampleConv;
    private final BatchNormalization downsampleBn;

    /**
     * @param inChannels input channels
     * @param planes     the narrow width; the block outputs 4·planes channels
     * @param stride     1, or 2 to halve the resolution (on the 3×3 in v1.5, on the first 1×1 in v1)
     */
    public Bottleneck(int inChannels, int planes, int stride, ResNetVariant variant) {
        int out = planes * EXPANSION;
        boolean bias = variant.convBias();
        double eps = variant.bnEps();
        int stride1 = variant.strideOnFirst1x1() ? stride : 1;
        int stride3 = variant.strideOnFirst1x1() ? 1 : stride;
        conv1 = add("conv1", new Conv2D(inChannels, planes, 1, stride1, 0, bias));
        bn1 = add("bn1", new BatchNormalization(planes, eps, BatchNormalization.DEFAULT_MOMENTUM));
        conv2 = add("conv2", new Conv2D(planes, planes, 3, stride3, 1, bias));
        bn2 = add("bn2", new BatchNormalization(planes, eps, BatchNormalization.DEFAULT_MOMENTUM));
        conv3 = add("conv3", new Conv2D(planes, out, 1, 1, 0, bias));
        bn3 = add("bn3", new BatchNormalization(out, eps, BatchNormalization.DEFAULT_MOMENTUM));
        if (stride != 1 || inChannels != out) {
            downsampleConv = new Conv2D(inChannels, out, 1, stride, 0, bias);
            downsampleBn = new BatchNormalization(out, eps, BatchNormalization.DEFAULT_MOMENTUM);
            add("downsample", new Sequential(downsampleConv, downsampleBn));
        } else {
            downsampleConv = null;
            downsampleBn = null;
        }
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        // relu(bn(.)) and relu(bn3(.) + shortcut) run as fused ops, and a frozen block fuses each BatchNorm into
        // its convolution too: same maths, fewer passes and activations. Without recorded nodes (a frozen block),
        // each intermediate is freed as soon as it is consumed.
        Tensor shortcut = downsampleConv == null ? x
                : downsampleConv.forwardWithBatchNorm(downsampleBn, x, null, false, mode);
        Tensor a1 = conv1.forwardWithBatchNorm(bn1, x, null, true, mode);
        Tensor a2 = conv2.forwardWithBatchNorm(bn2, a1, null, true, mode);
        releaseIfUnsaved(a1, x, a2);
        Tensor out = conv3.forwardWithBatchNorm(bn3, a2, shortcut, true, mode);
        releaseIfUnsaved(a2, x, out);
        releaseIfUnsaved(shortcut, x, out);
        return out;
    }
}
