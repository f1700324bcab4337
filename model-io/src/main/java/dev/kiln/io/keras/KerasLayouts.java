package dev.kiln.io.keras;

import dev.kiln.io.Permute;
import dev.kiln.io.TensorData;

import java.util.Arrays;

/** Converts Keras (TensorFlow) weight layouts to the PyTorch-style layouts the engine uses. */
public final class KerasLayouts {
    private KerasLayouts() {
    }

    /** Conv2D kernel [kh, kw, in, out] (HWIO) to [out, in, kh, kw] (OIHW). */
    public static TensorData conv2dKernelToOihw(TensorData hwio) {
        requireRank(hwio, 4, "Conv2D kernel");
        return Permute.permute(hwio, 3, 2, 0, 1);
    }

    /** Dense kernel [in, out] to [out, in], the layout of a linear layer's weight. */
    public static TensorData denseKernelToOutIn(TensorData inOut) {
        requireRank(inOut, 2, "Dense kernel");
        return Permute.permute(inOut, 1, 0);
    }

    private static void requireRank(TensorData t, int rank, String what) {
        if (t.rank() != rank) {
            throw new IllegalArgumentException(what + " must have rank " + rank + ", got shape "
                    + Arrays.toString(t.shape()));
        }
    }
}
