package dev.oneway.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.ModelFolder;
import dev.oneway.engine.model.Safetensors;
import dev.oneway.engine.nn.Ops;
import dev.oneway.engine.sampler.LoopedSampler;
import dev.oneway.engine.sampler.StageClock;
import dev.oneway.engine.sampler.TiueSampler;
import dev.oneway.engine.sampler.TorchNoise;
import dev.oneway.engine.unet.TimeCondition;
import dev.oneway.engine.unet.UNet2DConditionModel.EncoderFeatures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every TiUE stage against diffusers and transformers on the same weights. The fixtures under
 * src/test/resources/parity are the engine's generated tiny-sd15 and tiny-sd21 folders plus
 * reference.safetensors, written by tools/parity/make_fixtures.py with the reference libraries (float32,
 * CPU). Prompts, seeds, size and K below are the script's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ParityTest {

    private static final List<String> PROMPTS = List.of("a red fox in the snow", "lighthouse at dawn, oil painting");
    private static final long[] SEEDS = {42, 7};
    private static final int WIDTH = 96;
    private static final int HEIGHT = 64;
    private static final int STEPS = 4;
    private static final float TOLERANCE = 1e-4f;

    private NDManager manager;

    @BeforeAll
    void start() {
        manager = TorchRuntime.engine().newBaseManager();
    }

    @AfterAll
    void stop() {
        manager.close();
    }

    private static Path fixture(String variant) {
        return Path.of("src/test/resources/parity", variant).toAbsolutePath();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd15", "tiny-sd21"})
    void everyStageMatchesTheReferenceLibraries(String variant) {
        Path dir = fixture(variant);
        try (NDManager m = manager.newSubManager(); Safetensors ref = Safetensors.open(dir.resolve("reference.safetensors"))) {
            ModelFolder.Parts parts = ModelFolder.load(dir, m, DataType.FLOAT32, true);
            Map<String, String> report = new TreeMap<>();
            int b = PROMPTS.size();

            // 1. tokenizer (exact) and text encoder
            int length = parts.tokenizer().maxLength();
            long[] ids = new long[b * length];
            for (int i = 0; i < b; i++) {
                int[] tokens = parts.tokenizer().encode(PROMPTS.get(i));
                assertEquals(length, tokens.length);
                for (int j = 0; j < length; j++) {
                    ids[i * length + j] = tokens[j];
                }
            }
            long[] refIds = toLongs(ref.load("ids", m, DataType.FLOAT32).toFloatArray());
            assertArrayEquals(refIds, ids, "token ids");
            NDArray text = parts.textEncoder().forward(m.create(ids, new Shape(b, length)));
            compare("text", text, ref, m, report);

            // 2. starting noise: TorchNoise is torch.randn with a CPU generator (same uniforms and Box-Muller;
            //    torch's float log/cos and Java's differ in the last bit or so)
            int h = HEIGHT / 8;
            int w = WIDTH / 8;
            float[] noise = new float[b * 4 * h * w];
            for (int i = 0; i < b; i++) {
                System.arraycopy(TorchNoise.randn(SEEDS[i], 4 * h * w), 0, noise, i * 4 * h * w, 4 * h * w);
            }
            NDArray z = m.create(noise, new Shape(b, 4, h, w));
            compare("noise", z, ref, m, report, 1e-5f);

            // 3. scheduler timesteps (exact)
            int[] timesteps = parts.scheduler().timesteps(STEPS);
            float[] refTimesteps = ref.load("timesteps", m, DataType.FLOAT32).toFloatArray();
            for (int k = 0; k < STEPS; k++) {
                assertEquals(refTimesteps[k], timesteps[k], "timestep " + k);
            }

            // 4. UNet encoder once at t_0
            TimeCondition encoderTemb = parts.unet().timeCondition(m, new int[] {timesteps[0]}, b, DataType.FLOAT32);
            EncoderFeatures features = parts.unet().encode(z, encoderTemb, text);
            for (int i = 0; i < features.skips().size(); i++) {
                compare("skip." + i, features.skips().get(i), ref, m, report);
            }
            compare("mid", features.mid(), ref, m, report);

            // 5. UNet decoder at K x B, step-major
            TimeCondition decoderTemb = parts.unet().timeCondition(m, timesteps, b, DataType.FLOAT32);
            NDArray eps = parts.unet().decode(features.repeat(STEPS), decoderTemb, Ops.repeatBatch(text, STEPS));
            compare("eps", eps, ref, m, report);

            // 6. the samplers end to end: loop-free DDIM and the classic loop
            NDArray latents = new TiueSampler(parts.unet(), parts.scheduler()).sample(z, text, STEPS, quietClock());
            compare("latents", latents, ref, m, report);
            NDArray looped = new LoopedSampler(parts.unet(), parts.scheduler()).sample(z, text, STEPS, quietClock());
            compare("looped", looped, ref, m, report);

            // 7. VAE decoder on the TiUE latents
            compare("image", parts.vae().decode(latents), ref, m, report);

            System.out.println(variant + " max abs error per stage: " + report);
        }
    }

    /**
     * TAESD (vae_tiny/) against diffusers' AutoencoderTiny on fixed latents, from taesd-reference.safetensors
     * (tools/parity/make_taesd_fixtures.py): soft clamp, conv/ReLU blocks, nearest upsampling, output in [-1, 1].
     */
    @org.junit.jupiter.api.Test
    void taesdDecoderMatchesDiffusersAutoencoderTiny() {
        Path dir = fixture("tiny-sd15");
        try (NDManager m = manager.newSubManager();
             Safetensors ref = Safetensors.open(dir.resolve("taesd-reference.safetensors"))) {
            ModelFolder.Parts parts = ModelFolder.load(dir, m, DataType.FLOAT32, true);
            Map<String, String> report = new TreeMap<>();

            NDArray image = parts.vaeTiny().decode(ref.load("latents", m, DataType.FLOAT32));

            compare("image", image, ref, m, report);
            System.out.println("taesd max abs error: " + report);
        }
    }

    private static void compare(String name, NDArray actual, Safetensors ref, NDManager m, Map<String, String> report) {
        compare(name, actual, ref, m, report, TOLERANCE);
    }

    private static void compare(String name, NDArray actual, Safetensors ref, NDManager m, Map<String, String> report,
                                float tolerance) {
        NDArray expected = ref.load(name, m, DataType.FLOAT32);
        assertEquals(expected.getShape(), actual.getShape(), name + " shape");
        float[] a = actual.toType(DataType.FLOAT32, false).toFloatArray();
        float[] e = expected.toFloatArray();
        float maxError = 0;
        float maxValue = 0;
        for (int i = 0; i < a.length; i++) {
            maxError = Math.max(maxError, Math.abs(a[i] - e[i]));
            maxValue = Math.max(maxValue, Math.abs(e[i]));
        }
        report.put(name, String.format("%.2e", maxError));
        assertTrue(maxValue > 0, name + ": the reference is all zeros, which compares nothing");
        assertTrue(maxError <= tolerance, name + ": max abs error " + maxError + " > " + tolerance);
    }

    private static StageClock quietClock() {
        return new StageClock(ProgressListener.NONE, 4, 1);
    }

    private static long[] toLongs(float[] values) {
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (long) values[i];
        }
        return out;
    }
}
