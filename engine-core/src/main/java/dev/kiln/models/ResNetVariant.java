package dev.kiln.models;

/**
 * The two ResNet50 layouts that pretrained weights come in. They differ in three details, and mixing them up gives
 * wrong outputs without any shape error, so the variant travels with the weights.
 */
public enum ResNetVariant {
    /** torchvision's ResNet50 ("v1.5"): stride on the 3×3 conv, convs without bias, BatchNorm eps 1e-5. */
    TORCHVISION_V1_5(false, false, 1e-5),
    /** Keras's ResNet50 (the original v1): stride on the first 1×1 conv, convs with bias, BatchNorm eps 1.001e-5. */
    KERAS_V1(true, true, 1.001e-5);

    private final boolean strideOnFirst1x1;
    private final boolean convBias;
    private final double bnEps;

    ResNetVariant(boolean strideOnFirst1x1, boolean convBias, double bnEps) {
        this.strideOnFirst1x1 = strideOnFirst1x1;
        this.convBias = convBias;
        this.bnEps = bnEps;
    }

    public boolean strideOnFirst1x1() {
        return strideOnFirst1x1;
    }

    public boolean convBias() {
        return convBias;
    }

    public double bnEps() {
        return bnEps;
    }
}
