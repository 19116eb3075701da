package dev.oneway.engine.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

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
        // An in-memory stream: ImageIO's default file cache registers a JVM shutdown hook per stream, which throws
        // once shutdown has begun, so a worker finishing its batch after SIGTERM could not encode a single image.
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try (ImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            writer.write(image);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    static int toByte(float value) {
        float unit = Math.min(1f, Math.max(0f, value * 0.5f + 0.5f));
        return (int) Math.rint(unit * 255f);
    }
}
