package dev.kiln.io.image;

import javax.imageio.ImageIO;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Decodes JPEG, PNG, BMP and GIF files (whatever Java's ImageIO reads) to {@link RgbImage}s. */
public final class ImageFiles {
    private ImageFiles() {
    }

    /** The first frame of the image, as RGB; alpha is dropped (as PIL's {@code convert("RGB")} does). */
    public static RgbImage read(Path file) throws IOException {
        BufferedImage image;
        try (InputStream in = Files.newInputStream(file)) {
            image = ImageIO.read(in);
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": cannot decode image: " + e.getMessage(), e);
        }
        if (image == null) {
            throw new IOException(file + ": not an image this reader can decode (JPEG, PNG, BMP, GIF)");
        }
        return toRgb(image);
    }

    public static RgbImage toRgb(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        byte[] out = new byte[3 * w * h];
        if (isPlainGray(image)) {
            // getRGB() would treat gray as linear light and brighten it; PIL copies the value into R, G and B.
            Raster raster = image.getRaster();
            int shift = image.getColorModel().getComponentSize(0) - 8;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = raster.getSample(x, y, 0) >> Math.max(shift, 0);
                    int i = (y * w + x) * 3;
                    out[i] = out[i + 1] = out[i + 2] = (byte) v;
                }
            }
            return new RgbImage(w, h, out);
        }
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w); // sRGB, non-premultiplied ARGB
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                out[i] = (byte) (row[x] >> 16);
                out[i + 1] = (byte) (row[x] >> 8);
                out[i + 2] = (byte) row[x];
            }
        }
        return new RgbImage(w, h, out);
    }

    private static boolean isPlainGray(BufferedImage image) {
        return image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && image.getColorModel().getNumComponents() == 1
                && image.getColorModel().getComponentSize(0) >= 8;
    }
}
