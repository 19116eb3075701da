package dev.oneway.engine.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** VAE output in [-1, 1] to 8-bit RGB PNG, with diffusers' post-processing ((x / 2 + 0.5) clamped, x255, rounded). */
public final class PngEncoder {
    private PngEncoder() { }

    /**
     * @param chw one image's values, channel-major [3, height, width]
     */
    public static byte[] encode(float[] chw, int offset, int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int plane = width * height;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = offset + y * width + x;
                int rgb = (toByte(chw[i]) << 16) | (toByte(chw[i + plane]) << 8) | toByte(chw[i + 2 * plane]);
                image.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static int toByte(float value) {
        float unit = Math.min(1f, Math.max(0f, value * 0.5f + 0.5f));
        return (int) Math.rint(unit * 255f);
    }
}
