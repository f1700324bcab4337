package dev.kiln.trainer.data;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;

/** Decodes JPEG, PNG, BMP and GIF (the first frame) with {@link ImageIO}, into RGB planes. Thread-safe. */
public final class ImageDecoder {
    static {
        // No temporary files: decoding happens in memory, from many threads at once.
        ImageIO.setUseCache(false);
    }

    private ImageDecoder() {
    }

    public static RgbImage decode(Path file) throws UnreadableImageException {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            // ImageIO reports corrupt data as IIOException, but some decoders throw unchecked exceptions instead.
            throw new UnreadableImageException(file, e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
        if (img == null) throw new UnreadableImageException(file, "no image decoder recognises its contents", null);
        return toRgb(img);
    }

    static RgbImage toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int plane = w * h;
        float[] px = new float[3 * plane];
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            // getRGB would treat the gray values as linear light and brighten them; PIL copies them to R, G and B.
            Raster r = img.getRaster();
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = row[x];
                    px[y * w + x] = v;
                    px[plane + y * w + x] = v;
                    px[2 * plane + y * w + x] = v;
                }
            }
            return new RgbImage(w, h, px);
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < plane; i++) {
            int c = argb[i];
            px[i] = (c >> 16) & 0xff;
            px[plane + i] = (c >> 8) & 0xff;
            px[2 * plane + i] = c & 0xff;
        }
        return new RgbImage(w, h, px);
    }
}
