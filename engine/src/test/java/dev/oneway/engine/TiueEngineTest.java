package dev.oneway.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.engine.tiny.TinyModels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The engine end to end on generated model folders written to disk: real loaders, real architecture. */
class TiueEngineTest {

    @TempDir
    static Path models;

    static TiueEngine sd15;

    @BeforeAll
    static void load() {
        sd15 = TiueEngine.load(TinyModels.write(models.resolve("sd15"), TinyModels.Variant.SD15), EngineOptions.defaults());
    }

    @AfterAll
    static void close() {
        sd15.close();
    }

    static GenerationRequest request(String prompt, long seed, Sampler sampler, int steps) {
        return new GenerationRequest(prompt, seed, 64, 48, steps, sampler);
    }

    @Test
    void bfloat16OnTheCpuGivesLatentsCloseToFloat32s() {
        List<GenerationRequest> jobs = List.of(request("a red fox", 3, Sampler.TIUE, 4), request("a blue car", 4, Sampler.TIUE, 4));
        List<float[]> reference = sd15.latents(jobs);
        try (TiueEngine bf16 = TiueEngine.load(models.resolve("sd15"), new EngineOptions("cpu", "bfloat16"))) {
            assertEquals("bfloat16", bf16.precision());
            assertEquals("float32", sd15.precision());
            List<float[]> latents = bf16.latents(jobs);
            for (int i = 0; i < jobs.size(); i++) {
                double diff = 0;
                double magnitude = 0;
                for (int j = 0; j < latents.get(i).length; j++) {
                    diff += Math.abs(latents.get(i)[j] - reference.get(i)[j]);
                    magnitude += Math.abs(reference.get(i)[j]);
                }
                double relative = diff / magnitude;
                System.out.printf("bfloat16 vs float32 latents, job %d: mean abs difference %.2e of the mean magnitude%n", i, relative);
                assertTrue(relative < 0.05, "job " + i + ": bfloat16 latents off by " + relative + " of their magnitude");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new EngineOptions("gpu", "bfloat16"));
    }

    @Test
    void tiueWithOneStepEqualsTheLoopedSamplerWithOneStep() {
        List<GenerationRequest> tiue = List.of(request("a red fox", 3, Sampler.TIUE, 1), request("a blue car", 4, Sampler.TIUE, 1));
        List<GenerationRequest> looped = List.of(request("a red fox", 3, Sampler.LOOPED, 1), request("a blue car", 4, Sampler.LOOPED, 1));
        List<float[]> a = sd15.latents(tiue);
        List<float[]> b = sd15.latents(looped);
        for (int i = 0; i < a.size(); i++) {
            assertClose(a.get(i), b.get(i), 1e-5, "job " + i);
        }
    }

    @Test
    void tiueWithFourStepsDiffersFromLoopedWithFourSteps() {
        // the samplers are different algorithms beyond K = 1: the decoder sees t_0's features, not the updated latent
        float[] a = sd15.latents(List.of(request("a red fox", 3, Sampler.TIUE, 4))).get(0);
        float[] b = sd15.latents(List.of(request("a red fox", 3, Sampler.LOOPED, 4))).get(0);
        assertFalse(maxAbsDiff(a, b) < 1e-4);
    }

    @ParameterizedTest
    @EnumSource(Sampler.class)
    void aBatchOfFourGivesTheSameLatentsAndPngsAsFourSingleRuns(Sampler sampler) {
        List<GenerationRequest> jobs = List.of(
                request("a photo of a cat", 11, sampler, 4),
                request("a painting of a dog in the rain", 12, sampler, 4),
                request("café 東京 🙂", 13, sampler, 4),
                request("a photo of a cat", 14, sampler, 4));
        List<float[]> batched = sd15.latents(jobs);
        List<GeneratedImage> batchedImages = sd15.generate(jobs, ProgressListener.NONE);
        for (int i = 0; i < jobs.size(); i++) {
            float[] alone = sd15.latents(List.of(jobs.get(i))).get(0);
            assertClose(alone, batched.get(i), 1e-4, "latents of job " + i);
            GeneratedImage single = sd15.generate(List.of(jobs.get(i)), ProgressListener.NONE).get(0);
            assertArrayEquals(single.png(), batchedImages.get(i).png(), "png of job " + i);
            assertEquals(4, batchedImages.get(i).batchSize());
            assertEquals(1, single.batchSize());
        }
    }

    @Test
    void samePromptAndSeedGiveIdenticalPngBytesAndOtherSeedsDiffer() {
        byte[] first = sd15.generate(List.of(request("a lighthouse", 99, Sampler.TIUE, 4)), ProgressListener.NONE).get(0).png();
        byte[] again = sd15.generate(List.of(request("a lighthouse", 99, Sampler.TIUE, 4)), ProgressListener.NONE).get(0).png();
        byte[] other = sd15.generate(List.of(request("a lighthouse", 100, Sampler.TIUE, 4)), ProgressListener.NONE).get(0).png();
        assertArrayEquals(first, again);
        assertFalse(Arrays.equals(first, other));
    }

    @Test
    void theReloadedModelGivesTheSameBytes() {
        GenerationRequest r = request("a lighthouse", 99, Sampler.TIUE, 4);
        byte[] first = sd15.generate(List.of(r), ProgressListener.NONE).get(0).png();
        try (TiueEngine again = TiueEngine.load(models.resolve("sd15"), EngineOptions.defaults())) {
            assertArrayEquals(first, again.generate(List.of(r), ProgressListener.NONE).get(0).png());
        }
    }

    @ParameterizedTest
    @EnumSource(TinyModels.Variant.class)
    void bothModelStylesLoadAndGenerateANonSquarePng(TinyModels.Variant variant) throws Exception {
        Path dir = TinyModels.write(models.resolve("style-" + variant), variant);
        try (TiueEngine engine = TiueEngine.load(dir, EngineOptions.defaults())) {
            List<String> stages = new CopyOnWriteArrayList<>();
            GeneratedImage image = engine.generate(List.of(new GenerationRequest("a tall tower", 5, 96, 32, 4, Sampler.TIUE)),
                    (stage, done, total) -> stages.add(stage + " " + done + "/" + total)).get(0);
            BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(image.png()));
            assertNotNull(decoded, "a valid PNG");
            assertEquals(96, decoded.getWidth());
            assertEquals(32, decoded.getHeight());
            assertEquals(List.of("text 1/4", "encoder 2/4", "decoder 3/4", "vae 4/4"), stages);
            assertTrue(distinctColours(decoded) > 50, "an image, not a flat fill");
            assertTrue(image.timings().totalMs() > 0);
        }
    }

    @Test
    void requestsThatDoNotFitTheModelOrEachOtherAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sd15.generate(List.of(new GenerationRequest("x", 1, 60, 64, 4, Sampler.TIUE)), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("multiples of 16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> sd15.generate(List.of(
                request("x", 1, Sampler.TIUE, 4), request("x", 1, Sampler.LOOPED, 4)), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("must share"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> sd15.generate(List.of(request("x", 1, Sampler.TIUE, 1001)), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("steps must be between 1 and 1000"), e.getMessage());
        GenerationRequest vae = request("x", 1, Sampler.TIUE, 4);
        GenerationRequest taesd = new GenerationRequest("x", 1, 64, 48, 4, Sampler.TIUE, Decoder.TAESD);
        e = assertThrows(IllegalArgumentException.class, () -> sd15.generate(List.of(vae, taesd), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("must share"), e.getMessage());
    }

    @Test
    void taesdDecodesToAPngOfTheRequestedSizeOtherThanTheVaes() throws Exception {
        assertEquals(java.util.Set.of(Decoder.VAE, Decoder.TAESD), sd15.decoders());
        GenerationRequest viaVae = new GenerationRequest("a tall tower", 5, 96, 32, 4, Sampler.TIUE, Decoder.VAE);
        GenerationRequest viaTaesd = new GenerationRequest("a tall tower", 5, 96, 32, 4, Sampler.TIUE, Decoder.TAESD);

        byte[] vaePng = sd15.generate(List.of(viaVae), ProgressListener.NONE).get(0).png();
        GeneratedImage taesd = sd15.generate(List.of(viaTaesd), ProgressListener.NONE).get(0);

        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(taesd.png()));
        assertNotNull(decoded, "a valid PNG");
        assertEquals(96, decoded.getWidth());
        assertEquals(32, decoded.getHeight());
        assertTrue(distinctColours(decoded) > 50, "an image, not a flat fill");
        assertFalse(Arrays.equals(vaePng, taesd.png()), "another decoder, another image");
        assertEquals(Decoder.TAESD, taesd.request().decoder());
    }

    @Test
    void aModelWithoutATaesdRefusesTaesdJobsClearlyUnlessATaesdFolderIsConfigured() throws Exception {
        Path dir = TinyModels.write(models.resolve("no-taesd"), TinyModels.Variant.SD15);
        Path elsewhere = models.resolve("taesd-elsewhere");
        java.nio.file.Files.move(dir.resolve("vae_tiny"), elsewhere);
        GenerationRequest taesd = new GenerationRequest("a tall tower", 5, 64, 64, 4, Sampler.TIUE, Decoder.TAESD);

        try (TiueEngine engine = TiueEngine.load(dir, EngineOptions.defaults())) {
            assertEquals(java.util.Set.of(Decoder.VAE), engine.decoders());
            ModelException e = assertThrows(ModelException.class,
                    () -> engine.generate(List.of(taesd), ProgressListener.NONE));
            assertTrue(e.getMessage().contains("no taesd decoder") && e.getMessage().contains("vae_tiny/")
                    && e.getMessage().contains("ONEWAY_TAESD_DIR"), e.getMessage());
        }
        try (TiueEngine engine = TiueEngine.load(dir, new EngineOptions("cpu", "float32", null, elsewhere))) {
            assertEquals(java.util.Set.of(Decoder.VAE, Decoder.TAESD), engine.decoders());
            assertNotNull(ImageIO.read(new ByteArrayInputStream(
                    engine.generate(List.of(taesd), ProgressListener.NONE).get(0).png())));
        }
    }

    @Test
    void defaultsComeFromTheConfigs() {
        ModelDefaults d = sd15.defaults();
        assertEquals(64, d.width()); // unet sample_size 8 x VAE upscale 8
        assertEquals(16, d.sizeMultiple()); // 8 x 2^(down blocks - 1)
        assertEquals(4, d.steps());
        assertEquals(Sampler.TIUE, d.sampler());
        assertEquals(1000, d.maxSteps()); // scheduler num_train_timesteps: one DDIM step per training timestep at most
    }

    static int distinctColours(BufferedImage image) {
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                colours.add(image.getRGB(x, y));
            }
        }
        return colours.size();
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        double diff = maxAbsDiff(expected, actual);
        assertTrue(diff <= tolerance, what + ": max abs difference " + diff + " > " + tolerance);
    }

}
