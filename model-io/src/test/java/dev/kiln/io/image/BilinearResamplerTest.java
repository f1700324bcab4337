package dev.kiln.io.image;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The resampler against PIL. Expected bytes came from Pillow 9.4 (Debian bookworm's python3-pil):
 * {@code Image.fromarray(a, "RGB").resize(size, Image.BILINEAR)} on the 7×5 test image below. The real photos are
 * checked in {@link SqueezeNetPhotosTest}, against the preprocessed tensors PyTorch computed.
 */
class BilinearResamplerTest {
    /** Pixel (x, y), channel c = (37x + 51y + 13c + 5x²y) mod 256: varied, with no symmetry to hide mistakes. */
    static RgbImage testImage() {
        int w = 7, h = 5;
        byte[] p = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) p[(y * w + x) * 3 + c] = (byte) ((x * 37 + y * 51 + c * 13 + x * x * y * 5) % 256);
            }
        }
        return new RgbImage(w, h, p);
    }

    private static void assertPil(int w, int h, String hex) {
        RgbImage out = BilinearResampler.resize(testImage(), w, h);
        assertEquals(w, out.width());
        assertEquals(h, out.height());
        assertArrayEquals(HexFormat.of().parseHex(hex), out.pixels(), w + "x" + h);
    }

    @Test
    void downscaleMatchesPil() {
        assertPil(3, 2, "5764717a87948c99a6818e9b7e8b76828f9c");
    }

    @Test
    void upscaleMatchesPil() {
        assertPil(10, 8, "000d1a14212e2e3b48485562626f7c7c899696a3b0b0bdcacad7e4deebf81623302c39464855626774818895a2"
                + "84919e606d7a8895a2b2bfccd3e0ed3643504d5a676e7b88929facb4c1ce8b98a523303d53606d8f9ca9c3d0dd5663706f7c"
                + "8993a0adbfccd983909d6673806e7b88424f5c6c7986b4c1ce768390919eaba5b2bf9facb96976835a6774727f8c59667376"
                + "8390a4b1be96a3b0b3c0cda2afbc33404d6875826673802d3a4798a5b2acb9c695a2afb6c3d085929f57647148556299a656"
                + "a4b1606a77848f9ca9929fac85929fccd9e65f6c791d2a37616e7bbfcc33d3e0479eabb883909d7986937a8794");
    }

    @Test
    void oneAxisAtATimeMatchesPil() {
        assertPil(7, 3, "1623303d4a5768758298a5b25e6b7897a4b1d3e0ed66738095a2af9facb9687582616e7b525f6cacb9c6b6c3d0"
                + "5b6875485562c6d34e6875829ba8b585929f");
        assertPil(4, 5, "13202d4d5a67919eabcbd8e549566398a5b25b687595a2af808d9a9ba8b5626f7c6c7986a9b6c3616e7b5f6c79"
                + "a5b2bf727f8c79864baebb817b8895");
    }

    @Test
    void sameSizeIsTheImageItself() {
        RgbImage in = testImage();
        assertSame(in, BilinearResampler.resize(in, 7, 5));
    }

    @Test
    void shorterSideAndCenterCropFollowTorchvision() {
        RgbImage wide = new RgbImage(300, 200, new byte[3 * 300 * 200]);
        RgbImage resized = ImagePreprocessor.resizeShorterSide(wide, 256);
        assertEquals(384, resized.width()); // int(256 * 300 / 200)
        assertEquals(256, resized.height());
        RgbImage tall = new RgbImage(3, 7, new byte[3 * 3 * 7]);
        assertEquals(597, ImagePreprocessor.resizeShorterSide(tall, 256).height()); // int(597.33)
        // (7 − 4) / 2 = 1.5 rounds to 2, (6 − 4) / 2 = 1: Python's round() is half to even.
        RgbImage odd = new RgbImage(6, 7, new byte[3 * 6 * 7]);
        odd.pixels()[(2 * 6 + 1) * 3] = 42; // pixel (1, 2): the crop's top-left corner
        assertEquals(42, ImagePreprocessor.centerCrop(odd, 4).get(0, 0, 0));
    }
}
