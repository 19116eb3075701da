package dev.oneway.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PngEncoderTest {

    @Test
    void decodesToTheSamePixelsWithAnIndependentDecoder() throws IOException {
        int width = 37;
        int height = 20;
        Random random = new Random(3);
        int offset = 5;
        float[] chw = new float[offset + 3 * width * height];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = (float) (random.nextGaussian() * 0.8); // some values fall outside [-1, 1] and must clamp
        }
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(chw, offset, width, height)));
        assertEquals(width, image.getWidth());
        assertEquals(height, image.getHeight());
        int plane = width * height;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = offset + y * width + x;
                int expected = (PngEncoder.toByte(chw[i]) << 16) | (PngEncoder.toByte(chw[i + plane]) << 8)
                        | PngEncoder.toByte(chw[i + 2 * plane]);
                assertEquals(expected, image.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void mapsTheUnitRangeLikeDiffusers() {
        assertEquals(0, PngEncoder.toByte(-1f));
        assertEquals(0, PngEncoder.toByte(-3f));
        assertEquals(255, PngEncoder.toByte(1f));
        assertEquals(255, PngEncoder.toByte(7f));
        assertEquals(128, PngEncoder.toByte(0f)); // 127.5 rounds half to even: 128
    }
}
