package dev.kiln.bench;

/**
 * Floating-point operations of ResNet50 (torchvision v1.5 geometry, 224×224) counted from its convolutions and
 * dense layers: 2·K·C·R·S·P·Q per convolution per image (a multiply and an add per weight and output pixel).
 * Batch norm, ReLU and pooling are left out, as is customary; the forward total is about 8.2 GFLOP per image, the
 * PyTorch script's 8.18.
 *
 * <p>A backward pass costs one forward's worth for the weight gradients of each trained layer, and another for
 * the input gradients of each layer whose input needs them.
 */
final class ResNetFlops {
    private static final int[] BLOCKS = {3, 4, 6, 3};
    private static final int[] PLANES = {64, 128, 256, 512};
    static final int FEATURES = 2048;

    /** Forward FLOPs per image, split into what comes before layer4 and layer4 itself. */
    private final double beforeLayer4;
    private final double layer4;
    /** Layer4 convolutions that read layer3's output (layer4.0.conv1 and its downsample): no dx when layer3 is frozen. */
    private final double layer4Entry;
    private final double stem;

    ResNetFlops() {
        double stemConv = conv(3, 64, 7, 112);
        double before = stemConv, l4 = 0, l4entry = 0;
        int channels = 64, size = 56;
        for (int s = 0; s < 4; s++) {
            for (int b = 0; b < BLOCKS[s]; b++) {
                int stride = (b == 0 && s > 0) ? 2 : 1;
                int out = size / stride, p = PLANES[s];
                double conv1 = conv(channels, p, 1, size);
                double rest = conv(p, p, 3, out) + conv(p, 4 * p, 1, out);
                double downsample = b == 0 ? conv(channels, 4 * p, 1, out) : 0;
                double block = conv1 + rest + downsample;
                if (s == 3) {
                    l4 += block;
                    if (b == 0) l4entry += conv1 + downsample;
                } else {
                    before += block;
                }
                channels = 4 * p;
                size = out;
            }
        }
        this.beforeLayer4 = before;
        this.layer4 = l4;
        this.layer4Entry = l4entry;
        this.stem = stemConv;
    }

    /** 2·K·C·R·R·P·P for a square kernel R and square output P. */
    private static double conv(int c, int k, int r, int p) {
        return 2.0 * k * c * r * r * p * p;
    }

    private static double dense(int in, int out) {
        return 2.0 * in * out;
    }

    /** Inference of the whole network with a {@code classes} top. */
    double inference(int classes) {
        return beforeLayer4 + layer4 + dense(FEATURES, classes);
    }

    /** Forward, backward and update of the whole network; the stem needs no input gradient. */
    double training(int classes) {
        return 3 * inference(classes) - stem;
    }

    /**
     * Frozen backbone (forward only) and a trained head Flatten → Dense(hidden) → Dense(classes). The first dense
     * layer needs no input gradient, as nothing before it is trained.
     */
    double frozen(int hidden, int classes) {
        double head1 = dense(FEATURES * 7 * 7, hidden), head2 = dense(hidden, classes);
        return beforeLayer4 + layer4 + 2 * head1 + 3 * head2;
    }

    /** As {@link #frozen}, with layer4 trained too: its backward, less the input gradient into layer3. */
    double unfrozenLayer4(int hidden, int classes) {
        double head1 = dense(FEATURES * 7 * 7, hidden), head2 = dense(hidden, classes);
        return beforeLayer4 + 3 * layer4 - layer4Entry + 3 * head1 + 3 * head2;
    }
}
