package dev.kiln.models;

import dev.kiln.autograd.Autograd;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Mode;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Architecture facts: parameter counts as the home frameworks report them, output shapes, paths, errors. */
class ModelShapesTest {

    @Test
    void resnet50ParameterCountsMatchTorchvisionAndKeras() {
        assertEquals(25_557_032, Layer.count(ResNet50.torchvision().weights()), "torchvision resnet50");
        // Keras's ResNet50 reports 25,636,712 total params, 53,120 of them BN moving statistics.
        ResNet50 keras = new ResNet50(ResNetVariant.KERAS_V1, true, 1000);
        assertEquals(25_636_712, Layer.count(keras.allParameters()));
        assertEquals(53_120, Layer.count(keras.allParameters()) - Layer.count(keras.weights()));
    }

    @Test
    void squeezeNetParameterCountMatchesTheRealWeights() {
        assertEquals(1_235_496, Layer.count(new SqueezeNet11(true, 1000).weights()));
    }

    @Test
    void pathsFollowTorchvision() {
        ResNet50 m = ResNet50.torchvision();
        // torchvision's 320 tensors less the 53 BatchNorms' num_batches_tracked, which Kiln does not keep
        assertEquals(267, m.stateDict().size());
        Parameter p = m.parameter("layer4.2.conv3.weight");
        assertEquals("layer4.2.conv3.weight", p.path());
        assertEquals(Shape.of(2048, 512, 1, 1), p.value().shape());
        assertTrue(m.stateDict().containsKey("layer1.0.downsample.1.running_var"));
        assertTrue(new SqueezeNet11(true, 1000).stateDict().containsKey("features.3.expand3x3.weight"));
    }

    @Test
    void withoutTheTopTheOutputIsTheFeatureMap() {
        try (Autograd.NoGrad ignored = Autograd.noGrad()) {
            Tensor x = Tensor.zeros(dev.kiln.backend.Backends.defaultBackend(), dev.kiln.tensor.DType.F32, Shape.of(1, 3, 224, 224));
            assertEquals(Shape.of(1, 512, 13, 13), new SqueezeNet11(false, 0).forward(x, Mode.EVAL).shape());
            assertEquals(Shape.of(1, 2048, 7, 7), new ResNet50(ResNetVariant.KERAS_V1, false, 0).forward(x, Mode.EVAL).shape());
        }
    }

    @Test
    void aShapeErrorNamesTheLayerAndBothShapes() {
        ResNet50 m = ResNet50.torchvision();
        Tensor wrong = Tensor.zeros(dev.kiln.backend.Backends.defaultBackend(), dev.kiln.tensor.DType.F32, Shape.of(1, 64, 56, 56));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.layer("layer1.0").forward(Tensor.zeros(wrong.backend(), wrong.dtype(), Shape.of(1, 32, 8, 8)), Mode.EVAL));
        // The block computes its shortcut first, so the downsample conv is the first to see the input.
        assertEquals("conv2d: input has 32 channels, weight expects 64 (input (1, 32, 8, 8), weight (256, 64, 1, 1))"
                + " (layer 'layer1.0.downsample.0')", e.getMessage());
        IllegalArgumentException dense = assertThrows(IllegalArgumentException.class,
                () -> m.layer("fc").forward(Tensor.zeros(wrong.backend(), wrong.dtype(), Shape.of(2, 100)), Mode.EVAL));
        assertEquals("linear: input has 100 features, weight expects 2048 (input (2, 100), weight (1000, 2048)) (layer 'fc')",
                dense.getMessage());
    }
}
