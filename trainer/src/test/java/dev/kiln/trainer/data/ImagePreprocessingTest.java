package dev.kiln.trainer.data;

import dev.kiln.io.NamedTensors;
import dev.kiln.io.safetensors.SafeTensors;
import dev.kiln.models.SqueezeNet11;
import dev.kiln.nn.Mode;
import dev.kiln.tensor.MemoryScope;
import dev.kiln.tensor.Tensor;
import dev.kiln.trainer.SharedData;
import dev.kiln.trainer.model.Architecture;
import dev.kiln.trainer.model.PretrainedWeights;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImagePreprocessingTest {

    @Test
    void resizingAConstantImageKeepsItConstant() {
        float[] px = new float[3 * 300 * 400];
        java.util.Arrays.fill(px, 0, 120000, 255f);
        java.util.Arrays.fill(px, 120000, 240000, 128f);
        float[] out = ImagePreprocessing.imagenet().evaluate(new RgbImage(400, 300, px));
        assertEquals(3 * 224 * 224, out.length);
        float r = (1f - 0.485f) / 0.229f;
        float g = (128f / 255f - 0.456f) / 0.224f;
        float b = (0f - 0.406f) / 0.225f;
        assertEquals(r, out[0], 1e-5);
        assertEquals(g, out[224 * 224 + 5000], 1e-5);
        assertEquals(b, out[2 * 224 * 224 + 224 * 224 - 1], 1e-5);
    }

    @Test
    void grayImagesAreCopiedToRgbUnchanged() {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 100);
        gray.getRaster().setSample(1, 0, 0, 200);
        RgbImage rgb = ImageDecoder.toRgb(gray);
        assertArrayEquals(new float[]{100, 200, 100, 200, 100, 200}, rgb.pixels());
    }

    @Test
    void randomResizedCropStaysInsideTheImageAndRespectsScaleAndRatio() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 1000; i++) {
            int[] box = ImagePreprocessing.randomResizedCropBox(500, 375, rng);
            assertTrue(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= 500 && box[1] + box[3] <= 375);
            double area = (double) box[2] * box[3] / (500 * 375);
            double ratio = (double) box[2] / box[3];
            assertTrue(area > 0.07 && area <= 1.0, "area fraction " + area);
            assertTrue(ratio > 0.74 && ratio < 1.35, "ratio " + ratio);
        }
    }

    @Test
    void augmentationIsAFunctionOfTheSeed() throws Exception {
        Path photo = SharedData.require("data/hymenoptera/train/ants/formica.jpeg");
        RgbImage img = ImageDecoder.decode(photo);
        ImagePreprocessing p = ImagePreprocessing.imagenet();
        assertArrayEquals(p.augment(img, new SplittableRandom(3)), p.augment(img, new SplittableRandom(3)));
    }

    /**
     * Against PyTorch: the oracle holds PIL-preprocessed inputs of three photos. Java's JPEG decoder and PIL's differ
     * slightly (IDCT, chroma upsampling) and PIL rounds to 8 bits between steps, so the inputs agree closely but not
     * bit for bit; the real SqueezeNet must still give torch's top-1 class on our inputs.
     */
    @Test
    void matchesTorchvisionPreprocessingAndGivesTorchsTop1() throws Exception {
        Path oracle = SharedData.require("oracle/cases/squeezenet1_1_real.safetensors");
        Path samples = SharedData.require("data/imagenet-samples");
        Path weights = SharedData.require("data/squeezenet1_1");
        NamedTensors expected = SafeTensors.read(oracle);
        float[] x = expected.get("x").toFloats();
        String[] files = {"pytorch-hub/dog.jpg", "google-coral-test_data/parrot.jpg", "bvlc-caffe/cat.jpg"};
        int[] top1 = {258, 88, 278};
        int per = 3 * 224 * 224;

        SqueezeNet11 net = new SqueezeNet11(true, 1000);
        PretrainedWeights.load(net, Architecture.SQUEEZENET1_1, weights.toString());
        ImagePreprocessing prep = ImagePreprocessing.imagenet();
        for (int i = 0; i < files.length; i++) {
            float[] ours = prep.load(samples.resolve(files[i]));
            double sumAbs = 0;
            for (int k = 0; k < per; k++) sumAbs += Math.abs(ours[k] - x[i * per + k]);
            double meanAbs = sumAbs / per;
            assertTrue(meanAbs < 0.05, files[i] + ": mean |ours - torch| = " + meanAbs + " (normalized units)");
            try (MemoryScope scope = MemoryScope.open()) {
                float[] logits = net.forward(Tensor.of(ours, 1, 3, 224, 224), Mode.EVAL).toFloatArray();
                int best = 0;
                for (int k = 1; k < logits.length; k++) if (logits[k] > logits[best]) best = k;
                assertEquals(top1[i], best, files[i] + ": top-1 class");
            }
        }
    }
}
