package dev.oneway.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.clip.ClipTextModel;
import dev.oneway.engine.clip.ClipTokenizer;
import dev.oneway.engine.image.PngEncoder;
import dev.oneway.engine.model.ModelFolder;
import dev.oneway.engine.sampler.LatentSampler;
import dev.oneway.engine.sampler.LoopedSampler;
import dev.oneway.engine.sampler.StageClock;
import dev.oneway.engine.sampler.TiueSampler;
import dev.oneway.engine.sampler.TorchNoise;
import dev.oneway.engine.scheduler.DdimScheduler;
import dev.oneway.engine.unet.UNet2DConditionModel;
import dev.oneway.engine.vae.AutoencoderKLDecoder;
import dev.oneway.engine.vae.AutoencoderTinyDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The engine's front door: load a diffusers-layout TiUE model folder once, then turn batches of
 * requests into PNG images. One batch runs at a time per engine (calls are serialized).
 *
 * <p>A batch of B jobs costs one text-encoder pass at B, one UNet encoder pass at B and one UNet
 * decoder pass at K x B (TiUE), or K full UNet passes at B (looped), and one VAE pass at B.
 */
public final class TiueEngine implements AutoCloseable {

    private final String name;
    private final NDManager weightsManager;
    private final DataType dtype;
    /** Convolutions and linear layers compute in bfloat16 ({@code dtype bfloat16}, CPU only). */
    private final boolean bfloat16;
    private final ClipTokenizer tokenizer;
    private final ClipTextModel textEncoder;
    private final UNet2DConditionModel unet;
    private final AutoencoderKLDecoder vae;
    /** TAESD, null when the model has none. */
    private final AutoencoderTinyDecoder vaeTiny;
    private final DdimScheduler scheduler;
    private final ModelDefaults defaults;

    private TiueEngine(String name, NDManager weightsManager, DataType dtype, boolean bfloat16, ModelFolder.Parts parts) {
        this.name = name;
        this.weightsManager = weightsManager;
        this.dtype = dtype;
        this.bfloat16 = bfloat16;
        this.tokenizer = parts.tokenizer();
        this.textEncoder = parts.textEncoder();
        this.unet = parts.unet();
        this.vae = parts.vae();
        this.vaeTiny = parts.vaeTiny();
        this.scheduler = parts.scheduler();
        int sizeMultiple = vae.upscale() * unet.config().latentMultiple();
        int defaultSide = unet.config().sampleSize() * vae.upscale();
        // 4 steps is what the Loopfree students are trained for; the most a DDIM schedule can have is the
        // scheduler's num_train_timesteps (one step per training timestep).
        this.defaults = new ModelDefaults(name, defaultSide, defaultSide, 4, Sampler.TIUE, sizeMultiple,
                Math.max(defaultSide * 2, sizeMultiple), scheduler.trainTimesteps());
    }

    /** Loads every part of the model folder; fails with a {@link ModelException} naming any problem. */
    public static TiueEngine load(Path modelDir, EngineOptions options) {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true"); // weights are local; DJL must not try to download
        }
        Engine engine = TorchRuntime.engine();
        boolean gpu = switch (options.device()) {
            case "gpu" -> {
                if (engine.getGpuCount() == 0) {
                    throw new IllegalStateException("device gpu requested but DJL's PyTorch engine sees no GPU");
                }
                yield true;
            }
            case "cpu" -> false;
            default -> engine.getGpuCount() > 0;
        };
        boolean bfloat16 = options.dtype().equals("bfloat16");
        if (gpu && bfloat16) {
            throw new IllegalStateException("dtype bfloat16 is a CPU setting, and this engine would run on the GPU: "
                    + "set device cpu, or dtype float16 for the GPU");
        }
        DataType dtype = switch (options.dtype()) {
            case "float16" -> DataType.FLOAT16;
            case "float32", "bfloat16" -> DataType.FLOAT32;
            default -> gpu ? DataType.FLOAT16 : DataType.FLOAT32;
        };
        if (!gpu) {
            TorchRuntime.checkCpuEnvironment();
        }
        NDManager manager = engine.newBaseManager(gpu ? Device.gpu() : Device.cpu());
        try {
            ModelFolder.Parts parts = ModelFolder.load(modelDir, options.taesdDir(), manager, dtype,
                    options.batchInvariantOn(gpu), bfloat16);
            return new TiueEngine(modelDir.getFileName() == null ? modelDir.toString() : modelDir.getFileName().toString(),
                    manager, dtype, bfloat16, parts);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public ModelDefaults defaults() {
        return defaults;
    }

    /** The decoders this model can use: always the VAE, TAESD where the model has one. */
    public Set<Decoder> decoders() {
        return vaeTiny == null ? EnumSet.of(Decoder.VAE) : EnumSet.of(Decoder.VAE, Decoder.TAESD);
    }

    public String device() {
        return weightsManager.getDevice().getDeviceType() + (weightsManager.getDevice().isGpu() ? ":" + weightsManager.getDevice().getDeviceId() : "");
    }

    public DataType dtype() {
        return dtype;
    }

    /** The precision the model computes in, as the dtype setting names it: float32, float16 or bfloat16. */
    public String precision() {
        return bfloat16 ? "bfloat16" : dtype == DataType.FLOAT16 ? "float16" : "float32";
    }

    /**
     * Runs one batch. All requests must share width, height, steps and sampler ({@link GenerationRequest#shape()});
     * results come back in request order.
     *
     * @throws IllegalArgumentException when the requests do not share a shape or do not fit the model
     */
    public synchronized List<GeneratedImage> generate(List<GenerationRequest> batch, ProgressListener progress) {
        return run(batch, progress, true).images();
    }

    /** The final latents of each request (before the VAE), for tests and tools that compare samplers. */
    public synchronized List<float[]> latents(List<GenerationRequest> batch) {
        return run(batch, ProgressListener.NONE, false).latents();
    }

    private record BatchOutput(List<GeneratedImage> images, List<float[]> latents) { }

    private BatchOutput run(List<GenerationRequest> batch, ProgressListener progress, boolean decode) {
        GenerationRequest first = checkBatch(batch);
        int b = batch.size();
        int width = first.width();
        int height = first.height();
        int steps = first.steps();
        int latentH = height / vae.upscale();
        int latentW = width / vae.upscale();
        LatentSampler sampler = first.sampler() == Sampler.TIUE
                ? new TiueSampler(unet, scheduler)
                : new LoopedSampler(unet, scheduler);
        int totalStages = 1 + sampler.stages(steps) + (decode ? 1 : 0);
        long start = System.nanoTime();
        try (NDManager m = weightsManager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            long[] ids = new long[b * tokenizer.maxLength()];
            for (int i = 0; i < b; i++) {
                int[] tokens = tokenizer.encode(batch.get(i).prompt());
                for (int j = 0; j < tokens.length; j++) {
                    ids[i * tokenizer.maxLength() + j] = tokens[j];
                }
            }
            NDArray text = textEncoder.forward(m.create(ids, new Shape(b, tokenizer.maxLength())));
            double textMs = (System.nanoTime() - start) / 1e6;
            progress.stageFinished("text", 1, totalStages);

            int channels = unet.config().inChannels();
            int perJob = channels * latentH * latentW;
            float[] noise = new float[b * perJob];
            for (int i = 0; i < b; i++) {
                System.arraycopy(TorchNoise.randn(batch.get(i).seed(), perJob), 0, noise, i * perJob, perJob);
            }
            NDArray z = m.create(noise, new Shape(b, channels, latentH, latentW)).toType(dtype, false);
            StageClock clock = new StageClock(progress, totalStages, 1);
            NDArray latents = sampler.sample(z, text, steps, clock);

            if (!decode) {
                float[] all = latents.toType(DataType.FLOAT32, false).toFloatArray();
                List<float[]> perRequest = new ArrayList<>();
                for (int i = 0; i < b; i++) {
                    perRequest.add(java.util.Arrays.copyOfRange(all, i * perJob, (i + 1) * perJob));
                }
                return new BatchOutput(List.of(), perRequest);
            }
            long vaeStart = System.nanoTime();
            NDArray decoded = first.decoder() == Decoder.TAESD ? vaeTiny.decode(latents) : vae.decode(latents);
            float[] pixels = decoded.toType(DataType.FLOAT32, false).toFloatArray();
            double vaeMs = (System.nanoTime() - vaeStart) / 1e6;
            progress.stageFinished("vae", totalStages, totalStages);

            long pngStart = System.nanoTime();
            List<byte[]> pngs = new ArrayList<>();
            int perImage = 3 * width * height;
            for (int i = 0; i < b; i++) {
                pngs.add(PngEncoder.encode(pixels, i * perImage, width, height));
            }
            double pngMs = (System.nanoTime() - pngStart) / 1e6;
            StageTimings timings = new StageTimings(textMs, clock.encoderMs(), clock.decoderMs(), clock.schedulerMs(),
                    vaeMs, pngMs, (System.nanoTime() - start) / 1e6);
            List<GeneratedImage> images = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                images.add(new GeneratedImage(batch.get(i), pngs.get(i), b, timings));
            }
            return new BatchOutput(images, List.of());
        }
    }

    private GenerationRequest checkBatch(List<GenerationRequest> batch) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one request");
        }
        GenerationRequest first = batch.get(0);
        for (GenerationRequest r : batch) {
            if (!r.shape().equals(first.shape())) {
                throw new IllegalArgumentException("requests in one batch must share width, height, steps and sampler: "
                        + first.shape() + " vs " + r.shape());
            }
        }
        String problem = defaults.problemWith(first.width(), first.height(), first.steps());
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        if (!decoders().contains(first.decoder())) {
            throw new ModelException("model " + name + " has no " + first.decoder().wireName() + " decoder: add a "
                    + ModelFolder.VAE_TINY + "/ folder (diffusers AutoencoderTiny) to it or set ONEWAY_TAESD_DIR");
        }
        return first;
    }

    @Override
    public void close() {
        weightsManager.close();
        TorchRuntime.releaseFreeMemory();
    }
}
