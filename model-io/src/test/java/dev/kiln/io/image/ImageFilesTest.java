package dev.kiln.io.image;

import dev.kiln.io.model.Preprocessing;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Decoding to RGB and the small image operations the trainer's augmentation is made of. */
class ImageFilesTest {

    @Test
    void grayImagesAreCopiedToRgbUnchanged() {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 100);
        gray.getRaster().setSample(1, 0, 0, 200);
        RgbImage rgb = ImageFiles.toRgb(gray);
        assertArrayEquals(new byte[] {100, 100, 100, (byte) 200, (byte) 200, (byte) 200}, rgb.pixels());
    }

    @Test
    void mirroredSwapsColumnsAndKeepsChannelOrder() {
        RgbImage image = new RgbImage(3, 1, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertArrayEquals(new byte[] {7, 8, 9, 4, 5, 6, 1, 2, 3}, image.mirrored().pixels());
    }

    @Test
    void normalizeIsChannelMajorInTheCardsChannelOrder() {
        RgbImage pixel = new RgbImage(1, 1, new byte[] {(byte) 255, 0, 10});
        float[] torchvision = new ImagePreprocessor(Preprocessing.TORCHVISION).normalize(pixel);
        assertEquals((1 - 0.485f) / 0.229f, torchvision[0], 1e-5);
        assertEquals((0 - 0.456f) / 0.224f, torchvision[1], 1e-5);
        float[] caffe = new ImagePreprocessor(Preprocessing.CAFFE).normalize(pixel);
        assertArrayEquals(new float[] {10 - 103.939f, 0 - 116.779f, 255 - 123.68f}, caffe, 1e-4f); // BGR
    }
}
