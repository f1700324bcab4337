package dev.kiln.io.maps;

import dev.kiln.autograd.Autograd;
import dev.kiln.io.Closeness;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.keras.KerasH5;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.Bottleneck;
import dev.kiln.models.ResNetVariant;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * keras_v1_conv_block.h5 (made by make_fixture.py) holds the oracle case keras_v1_conv_block's weights under
 * Keras's names for ResNet50's first block (conv2_block1_*), in Keras's layouts. Loaded through the Keras name map
 * into a Keras-variant Bottleneck, it must give the case's y_eval. Tolerance 1e-4 of max|y|, the oracle's bar for
 * whole blocks.
 */
class KerasConvBlockTest {
    @Test
    void kerasNamedBlockReproducesTheOracle() throws Exception {
        NamedTensors oracle = SafeTensors.read(SharedData.require("oracle/cases/keras_v1_conv_block.safetensors"));
        Path h5 = Path.of(getClass().getResource("/keras/keras_v1_conv_block.h5").toURI());
        NamedTensors file = KerasH5.read(h5);

        Bottleneck block = new Bottleneck(32, 16, 2, ResNetVariant.KERAS_V1);
        LoadReport report = WeightLoader.load(block, file, new KerasResNet50Names(),
                LoadOptions.strict().under("layer1.0"), h5);
        assertEquals(block.allParameters().size(), report.loaded().size());
        assertTrue(report.missing().isEmpty() && report.unexpected().isEmpty());

        TensorData x = oracle.get("x");
        float[] y;
        try (MemoryScope ignored = MemoryScope.open(); Autograd.NoGrad noGrad = Autograd.noGrad()) {
            y = block.forward(Tensor.of(x.toFloats(), x.shape()), Mode.EVAL).toFloatArray();
        }
        double err = Closeness.assertClose("y_eval", oracle.get("y_eval").toFloats(), y, 1e-4);
        System.out.printf("keras_v1_conv_block via Keras names: y_eval relative error %.2e%n", err);
    }
}
