package dev.kiln.io.image;

import dev.kiln.autograd.Autograd;
import dev.kiln.io.Closeness;
import dev.kiln.io.NamedTensors;
import dev.kiln.io.TensorData;
import dev.kiln.io.model.LoadedModel;
import dev.kiln.io.model.ModelKind;
import dev.kiln.io.model.Preprocessing;
import dev.kiln.io.model.WeightImport;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real pretrained SqueezeNet 1.1 weights (the shared .npy folder) against PyTorch: the logits of the oracle case's
 * preprocessed photos, the preprocessing itself, and torch's top-1 on the sample photos through the whole pipeline.
 */
class SqueezeNetPhotosTest {
    /** The oracle's logits are float64 rounded to float32; a float32 engine is within accumulation-order error. */
    private static final double LOGITS = 1e-4;

    private static LoadedModel squeezeNet;
    private static NamedTensors oracle;

    @BeforeAll
    static void load() throws Exception {
        Path weights = SharedData.require("data/squeezenet1_1");
        oracle = SafeTensors.read(SharedData.require("oracle/cases/squeezenet1_1_real.safetensors"));
        squeezeNet = WeightImport.load(weights, ModelKind.SQUEEZENET1_1, null);
    }

    @Test
    void reproducesTorchLogitsOnThePreprocessedPhotos() {
        TensorData x = oracle.get("x");
        float[] logits;
        try (MemoryScope ignored = MemoryScope.open(); Autograd.NoGrad noGrad = Autograd.noGrad()) {
            logits = squeezeNet.model().forward(Tensor.of(x.toFloats(), x.shape()), Mode.EVAL).toFloatArray();
        }
        double err = Closeness.assertClose("squeezenet1_1 logits", oracle.get("logits").toFloats(), logits, LOGITS);
        System.out.printf("squeezenet1_1_real: logits relative error %.2e%n", err);
        int[] top1 = {258, 88, 278};
        for (int i = 0; i < top1.length; i++) assertEquals(top1[i], Closeness.argmax(logits, i, 1000), "image " + i);
    }

    /**
     * Decoding, resizing and cropping the oracle's photos gives torch's input tensor. Measured: 7e-7, float rounding
     * only, because Java's JPEG decoder (libjpeg 6b inside) and the resampler give PIL's bytes exactly. One level of
     * difference in a pixel would show as 1/255/0.225 ≈ 0.017.
     */
    @Test
    void preprocessingMatchesTorchvision() throws Exception {
        List<String> photos = List.of("pytorch-hub/dog.jpg", "google-coral-test_data/parrot.jpg", "bvlc-caffe/cat.jpg");
        ImagePreprocessor pre = new ImagePreprocessor(Preprocessing.TORCHVISION);
        float[] all = oracle.get("x").toFloats();
        int plane = 3 * 224 * 224;
        for (int i = 0; i < photos.size(); i++) {
            float[] expected = Arrays.copyOfRange(all, i * plane, (i + 1) * plane);
            float[] actual = pre.toChw(ImageFiles.read(SharedData.require("data/imagenet-samples/" + photos.get(i))));
            double worst = 0;
            for (int j = 0; j < plane; j++) worst = Math.max(worst, Math.abs(expected[j] - actual[j]));
            System.out.printf("%s: max |x - torch x| = %.2e%n", photos.get(i), worst);
            assertTrue(worst < 1e-4, photos.get(i) + ": max difference " + worst);
        }
    }

    /** The squeezenet README's list of PyTorch's top-1 on the sample photos, through file → class. */
    @Test
    void topOneOnSamplePhotosIsTorchs() throws Exception {
        Map<String, Integer> expected = Map.of(
                "pytorch-hub/dog.jpg", 258,
                "google-coral-test_data/parrot.jpg", 88,
                "misc/fgsm_parrot.jpeg", 88,
                "google-coral-test_data/cat.bmp", 285,
                "google-coral-test_data/dragonfly.bmp", 319);
        Predictor predictor = new Predictor(squeezeNet);
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            List<ClassScore> top = predictor.predict(SharedData.require("data/imagenet-samples/" + e.getKey()), 3);
            System.out.printf("%s: %s%n", e.getKey(), top);
            assertEquals(e.getValue(), top.get(0).index(), e.getKey() + ": " + top);
        }
        assertEquals("Samoyed", predictor.card().label(258));
    }
}
