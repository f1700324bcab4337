package dev.kiln.io.maps;

import dev.kiln.io.TensorData;
import dev.kiln.io.keras.KerasLayouts;

/** How a tensor's memory layout changes on its way from a weight file into a Kiln parameter. */
public enum Layout {
    /** Already in Kiln's layout (PyTorch's): OIHW convolution kernels, (out, in) dense weights, vectors. */
    AS_IS,
    /** A Keras/TensorFlow convolution kernel (kh, kw, in, out), transposed to (out, in, kh, kw). */
    CONV_HWIO_TO_OIHW,
    /** A Keras dense kernel (in, out), transposed to (out, in). */
    DENSE_IN_OUT_TO_OUT_IN;

    /** The tensor in Kiln's layout; throws IllegalArgumentException when its rank does not fit the layout. */
    public TensorData apply(TensorData stored) {
        return switch (this) {
            case AS_IS -> stored;
            case CONV_HWIO_TO_OIHW -> KerasLayouts.conv2dKernelToOihw(stored);
            case DENSE_IN_OUT_TO_OUT_IN -> KerasLayouts.denseKernelToOutIn(stored);
        };
    }
}
