package dev.oneway.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.engine.image.LatentPreview;
import dev.oneway.engine.tiny.TinyModels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Previews of each sampler step's predicted x0, for the rows of a batch that want them, on a generated model. */
class StepPreviewsTest {

    @TempDir
    static Path models;
    static TiueEngine engine;

    @BeforeAll
    static void load() {
        engine = TiueEngine.load(TinyModels.write(models.resolve("sd15"), TinyModels.Variant.SD15), EngineOptions.defaults());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    record Told(int row, int step, int steps, LatentPreview.Image image) { }

    /** Wants previews for the rows given. */
    static final class Previews implements ProgressListener {
        final List<Told> told = new CopyOnWriteArrayList<>();
        final List<Integer> rows;

        Previews(List<Integer> rows) {
            this.rows = rows;
        }

        @Override
        public void stageFinished(String stage, int done, int total) { }

        @Override
        public boolean wantsPreview(int row) {
            return rows.contains(row);
        }

        @Override
        public void preview(int row, int step, int steps, LatentPreview.Image image) {
            told.add(new Told(row, step, steps, image));
        }
    }

    @ParameterizedTest
    @EnumSource(Sampler.class)
    void onlyTheRowsThatWantPreviewsGetOnePerStepInOrderAndTheImagesDoNotChange(Sampler sampler) throws Exception {
        List<GenerationRequest> batch = List.of(new GenerationRequest("a red fox", 1, 96, 64, 4, sampler),
                new GenerationRequest("a blue bird", 2, 96, 64, 4, sampler),
                new GenerationRequest("a green frog", 3, 96, 64, 4, sampler));
        Previews listener = new Previews(List.of(0, 2));
        List<GeneratedImage> withPreviews = engine.generate(batch, listener);
        List<GeneratedImage> without = engine.generate(batch, ProgressListener.NONE);
        for (int i = 0; i < batch.size(); i++) {
            assertArrayEquals(without.get(i).png(), withPreviews.get(i).png(), "previews change nothing in image " + i);
        }

        assertEquals(List.of(0, 2, 0, 2, 0, 2, 0, 2), listener.told.stream().map(Told::row).toList());
        assertEquals(List.of(1, 1, 2, 2, 3, 3, 4, 4), listener.told.stream().map(Told::step).toList());
        for (Told t : listener.told) {
            assertEquals(4, t.steps());
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(t.image().png()));
            assertNotNull(image);
            assertEquals(96 / 8, image.getWidth(), "one preview pixel per latent pixel");
            assertEquals(64 / 8, image.getHeight());
        }
        assertTrue(listener.told.get(0).image().png().length != 0);
    }

    @Test
    void aLargeLatentIsShrunkToAtMost128PixelsASide() throws Exception {
        int channels = 4;
        int height = 200;
        int width = 256;
        float[] latent = new float[channels * height * width];
        for (int i = 0; i < latent.length; i++) {
            latent[i] = (float) Math.sin(i * 0.01);
        }
        LatentPreview.Image preview = LatentPreview.of(latent, 0, channels, height, width);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(preview.png()));
        assertEquals(128, image.getWidth());
        assertEquals(100, image.getHeight());
        assertEquals(128, preview.width());
        assertEquals(100, preview.height());
    }

    @Test
    void theLinearMapGivesTheLatentsColours() throws Exception {
        // Latent channel 3 high (all else 0) is blue-dark: R = -0.212, G = -0.2616, B = -0.7177 times the value.
        float[] latent = new float[4];
        latent[3] = 1f;
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(LatentPreview.of(latent, 0, 4, 1, 1).png()));
        int rgb = image.getRGB(0, 0);
        assertEquals(Math.round((1 - 0.2120f) / 2 * 255), (rgb >> 16) & 0xff);
        assertEquals(Math.round((1 - 0.2616f) / 2 * 255), (rgb >> 8) & 0xff);
        assertEquals(Math.round((1 - 0.7177f) / 2 * 255), rgb & 0xff);
    }
}
