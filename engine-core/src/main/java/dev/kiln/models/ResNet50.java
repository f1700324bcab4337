package dev.kiln.models;

import dev.kiln.nn.BatchNormalization;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Layer;
import dev.kiln.nn.MaxPooling2D;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/**
 * ResNet50 on 3×224×224 images. Stem: 7×7/2 conv, BatchNorm, ReLU, 3×3/2 max pool. Then four stages of
 * {@link Bottleneck}s: 3, 4, 6 and 3 blocks of widths 64, 128, 256, 512 (outputs 256 … 2048 channels), each stage
 * after the first halving the resolution. With the top: global average pool and a dense layer to class logits.
 * Without it ({@code includeTop = false}), the output is the (N, 2048, 7, 7) feature map, as Keras returns.
 *
 * <p>Layer paths follow torchvision's state dict (conv1, bn1, layer1.0.conv1, …, fc) in both variants; the
 * converters in model-io map Keras's names onto them.
 */
public final class ResNet50 extends Layer {
    private static final int[] BLOCKS = {3, 4, 6, 3};
    private static final int[] PLANES = {64, 128, 256, 512};
    public static final int FEATURES = 2048;

    private final ResNetVariant variant;
    private final boolean includeTop;
    private final Conv2D conv1;
    private final BatchNormalization bn1;
    private final MaxPooling2D maxpool;
    private final Sequential[] stages = new Sequential[4];
    private final Dense fc;

    public ResNet50(ResNetVariant variant, boolean includeTop, int classes) {
        this.variant = variant;
        this.includeTop = includeTop;
        conv1 = add("conv1", new Conv2D(3, 64, 7, 2, 3, variant.convBias()));
        bn1 = add("bn1", new BatchNormalization(64, variant.bnEps(), BatchNormalization.DEFAULT_MOMENTUM));
        maxpool = add("maxpool", new MaxPooling2D(3, 2, 1, false));
        int channels = 64;
        for (int s = 0; s < 4; s++) {
            Sequential stage = new Sequential();
            for (int b = 0; b < BLOCKS[s]; b++) {
                int stride = (b == 0 && s > 0) ? 2 : 1;
                stage.append(new Bottleneck(channels, PLANES[s], stride, variant));
                channels = PLANES[s] * Bottleneck.EXPANSION;
            }
            stages[s] = add("layer" + (s + 1), stage);
        }
        fc = includeTop ? add("fc", new Dense(FEATURES, classes)) : null;
    }

    /** torchvision's layout with the 1000-class top. */
    public static ResNet50 torchvision() {
        return new ResNet50(ResNetVariant.TORCHVISION_V1_5, true, 1000);
    }

    public ResNetVariant variant() {
        return variant;
    }

    public boolean includeTop() {
        return includeTop;
    }

    /** The stem: conv1, bn1, ReLU, max pool. Output (N, 64, H/4, W/4). */
    public Tensor stem(Tensor x, Mode mode) {
        Tensor a = conv1.forwardWithBatchNorm(bn1, x, null, true, mode);
        Tensor pooled = maxpool.forward(a, mode);
        releaseIfUnsaved(a, x, pooled);
        return pooled;
    }

    /** Stage {@code index} (1 to 4), for reading intermediate activations. */
    public Sequential stage(int index) {
        return stages[index - 1];
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        Tensor out = stem(x, mode);
        for (Sequential stage : stages) {
            Tensor next = stage.forward(out, mode);
            releaseIfUnsaved(out, x, next);
            out = next;
        }
        if (!includeTop) return out;
        Tensor pooled = Ops.globalAvgPool(out);
        releaseIfUnsaved(out, x, pooled);
        Tensor logits = fc.forward(pooled, mode);
        releaseIfUnsaved(pooled, x, logits);
        return logits;
    }
}
