package dev.kiln.models;

import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/**
 * SqueezeNet's fire module: a 1×1 "squeeze" conv to few channels, then two "expand" convs (1×1 and 3×3) whose
 * outputs are concatenated along the channels; ReLU after each conv. Children are named as in torchvision.
 */
public final class Fire extends Layer {
    private final Conv2D squeeze;
    private final Conv2D expand1x1;
    private final Conv2D expand3x3;

    public Fire(int inChannels, int squeezeChannels, int expand1x1Channels, int expand3x3Channels) {
        squeeze = add("squeeze", new Conv2D(inChannels, squeezeChannels, 1, 1, 0, true));
        expand1x1 = add("expand1x1", new Conv2D(squeezeChannels, expand1x1Channels, 1, 1, 0, true));
        expand3x3 = add("expand3x3", new Conv2D(squeezeChannels, expand3x3Channels, 3, 1, 1, true));
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        Tensor s = Ops.relu(squeeze.forward(x, mode));
        return Ops.concat(1, Ops.relu(expand1x1.forward(s, mode)), Ops.relu(expand3x3.forward(s, mode)));
    }
}
