package dev.kiln.trainer.data;

import dev.kiln.io.image.ImageFiles;
import dev.kiln.io.image.ImagePreprocessor;
import dev.kiln.io.image.RgbImage;
import dev.kiln.io.model.Preprocessing;
import dev.kiln.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The random parts of training augmentation; every pixel operation is model-io's and tested there. */
class AugmentationTest {
    private static final ImagePreprocessor TORCHVISION = new ImagePreprocessor(Preprocessing.TORCHVISION);

    @Test
    void randomResizedCropStaysInsideTheImageAndRespectsScaleAndRatio() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 1000; i++) {
            int[] box = Augmentation.randomResizedCropBox(500, 375, rng);
            assertTrue(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= 500 && box[1] + box[3] <= 375);
            double area = (double) box[2] * box[3] / (500 * 375);
            double ratio = (double) box[2] / box[3];
            assertTrue(area > 0.07 && area <= 1.0, "area fraction " + area);
            assertTrue(ratio > 0.74 && ratio < 1.35, "ratio " + ratio);
        }
    }

    @Test
    void aConstantImageStaysConstantAndIsNormalizedAsTheCardSays() {
        byte[] px = new byte[3 * 400 * 300];
        for (int i = 0; i < px.length; i += 3) {
            px[i] = (byte) 255;
            px[i + 1] = (byte) 128;
        }
        float[] out = new Augmentation(TORCHVISION).apply(new RgbImage(400, 300, px), new SplittableRandom(1));
        int plane = 224 * 224;
        assertEquals(3 * plane, out.length);
        assertEquals((1f - 0.485f) / 0.229f, out[0], 1e-5);
        assertEquals((128f / 255f - 0.456f) / 0.224f, out[plane + 5000], 1e-5);
        assertEquals((0f - 0.406f) / 0.225f, out[3 * plane - 1], 1e-5);
    }

    @Test
    void augmentationIsAFunctionOfTheSeed() throws Exception {
        RgbImage img = ImageFiles.read(SharedData.require("data/hymenoptera/train/ants/formica.jpeg"));
        Augmentation a = new Augmentation(TORCHVISION);
        assertArrayEquals(a.apply(img, new SplittableRandom(3)), a.apply(img, new SplittableRandom(3)));
    }
}
