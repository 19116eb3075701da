package dev.oneway.engine.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.oneway.engine.ModelException;
import dev.oneway.engine.clip.ClipTextModel;
import dev.oneway.engine.clip.ClipTokenizer;
import dev.oneway.engine.scheduler.DdimScheduler;
import dev.oneway.engine.unet.UNet2DConditionModel;
import dev.oneway.engine.unet.UNetConfig;
import dev.oneway.engine.vae.AutoencoderKLDecoder;
import dev.oneway.engine.vae.AutoencoderTinyDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A diffusers snapshot as downloaded from the hub: model_index.json, scheduler/, tokenizer/,
 * text_encoder/, unet/, vae/. Each weights file may be the plain or the .fp16 variant. An optional
 * vae_tiny/ (diffusers' AutoencoderTiny layout, e.g. madebyollin/taesd) beside them, or a TAESD folder
 * given on its own, adds the cheap decoder; model_index.json does not name it, so diffusers ignores it.
 */
public final class ModelFolder {
    private ModelFolder() { }

    private static final Logger LOG = LoggerFactory.getLogger(ModelFolder.class);

    /** Everything the engine needs, loaded and checked; vaeTiny (TAESD) is null when the model has none. */
    public record Parts(ClipTokenizer tokenizer, ClipTextModel textEncoder, UNet2DConditionModel unet,
                        AutoencoderKLDecoder vae, DdimScheduler scheduler, AutoencoderTinyDecoder vaeTiny) { }

    /** The folder name of the optional TAESD decoder inside a model folder. */
    public static final String VAE_TINY = "vae_tiny";

    public static Parts load(Path dir, NDManager manager, DataType dtype, boolean batchInvariant) {
        return load(dir, null, manager, dtype, batchInvariant);
    }

    /**
     * @param taesdDir a TAESD folder (config.json and diffusion_pytorch_model.safetensors) used when the model
     *     folder has no vae_tiny/; null for none
     */
    public static Parts load(Path dir, Path taesdDir, NDManager manager, DataType dtype, boolean batchInvariant) {
        return load(dir, taesdDir, manager, dtype, batchInvariant, false);
    }

    /** @param bfloat16 convolutions and linear layers compute in bfloat16 (CPU only, float32 weights) */
    public static Parts load(Path dir, Path taesdDir, NDManager manager, DataType dtype, boolean batchInvariant,
                             boolean bfloat16) {
        if (!Files.isDirectory(dir)) {
            throw new ModelException(dir + ": model folder not found");
        }
        ModelConfig index = ModelConfig.read(dir, "model_index.json");
        for (String part : new String[] {"scheduler", "text_encoder", "tokenizer", "unet", "vae"}) {
            if (!index.has(part)) {
                throw new ModelException("model_index.json: missing component '" + part + "'");
            }
        }
        DdimScheduler scheduler = DdimScheduler.read(ModelConfig.read(dir, "scheduler/scheduler_config.json"));
        ClipTokenizer tokenizer = ClipTokenizer.load(dir.resolve("tokenizer"));

        ClipTextModel.Config textConfig = ClipTextModel.Config.read(ModelConfig.read(dir, "text_encoder/config.json"));
        ClipTextModel textEncoder;
        try (SafetensorsSource source = source(dir, "text_encoder", "model", manager, dtype)) {
            textEncoder = new ClipTextModel(textConfig, new Weights(source, batchInvariant, bfloat16));
            warnUnused("text_encoder", source.unused(), "text_model.embeddings.position_ids");
        }

        UNetConfig unetConfig = UNetConfig.read(ModelConfig.read(dir, "unet/config.json"));
        UNet2DConditionModel unet;
        try (SafetensorsSource source = source(dir, "unet", "diffusion_pytorch_model", manager, dtype)) {
            unet = new UNet2DConditionModel(unetConfig, new Weights(source, batchInvariant, bfloat16));
            warnUnused("unet", source.unused());
        }
        if (unetConfig.crossAttentionDim() != textConfig.hiddenSize()) {
            throw new ModelException("unet/config.json: cross_attention_dim is " + unetConfig.crossAttentionDim()
                    + " but text_encoder/config.json hidden_size is " + textConfig.hiddenSize());
        }

        AutoencoderKLDecoder.Config vaeConfig = AutoencoderKLDecoder.Config.read(ModelConfig.read(dir, "vae/config.json"));
        if (vaeConfig.latentChannels() != unetConfig.inChannels() || unetConfig.outChannels() != unetConfig.inChannels()) {
            throw new ModelException("vae/config.json: latent_channels is " + vaeConfig.latentChannels()
                    + " but the UNet maps " + unetConfig.inChannels() + " to " + unetConfig.outChannels() + " channels");
        }
        AutoencoderKLDecoder vae = loadVae(dir, vaeConfig, manager, dtype, batchInvariant, bfloat16);
        AutoencoderTinyDecoder vaeTiny = loadTaesd(dir, taesdDir, vaeConfig, vae.upscale(), manager, dtype,
                batchInvariant, bfloat16);
        return new Parts(tokenizer, textEncoder, unet, vae, scheduler, vaeTiny);
    }

    /** The folder's vae/ alone (e.g. to measure decoders). */
    public static AutoencoderKLDecoder loadVae(Path dir, NDManager manager, DataType dtype, boolean batchInvariant) {
        return loadVae(dir, AutoencoderKLDecoder.Config.read(ModelConfig.read(dir, "vae/config.json")), manager, dtype,
                batchInvariant, false);
    }

    /** The folder's vae_tiny/ (or taesdDir where it has none) alone; null when there is neither. */
    public static AutoencoderTinyDecoder loadTaesd(Path dir, Path taesdDir, NDManager manager, DataType dtype,
                                                   boolean batchInvariant) {
        AutoencoderKLDecoder.Config vaeConfig = AutoencoderKLDecoder.Config.read(ModelConfig.read(dir, "vae/config.json"));
        return loadTaesd(dir, taesdDir, vaeConfig, 1 << (vaeConfig.blockOutChannels().length - 1), manager, dtype,
                batchInvariant, false);
    }

    private static AutoencoderKLDecoder loadVae(Path dir, AutoencoderKLDecoder.Config vaeConfig, NDManager manager,
                                                DataType dtype, boolean batchInvariant, boolean bfloat16) {
        try (SafetensorsSource source = source(dir, "vae", "diffusion_pytorch_model", manager, dtype)) {
            AutoencoderKLDecoder vae = new AutoencoderKLDecoder(vaeConfig, new Weights(source, batchInvariant, bfloat16));
            // the encoder half is not needed to make images
            warnUnused("vae", source.unused().stream()
                    .filter(k -> !k.startsWith("encoder.") && !k.startsWith("quant_conv."))
                    .collect(Collectors.toSet()));
            return vae;
        }
    }

    private static AutoencoderTinyDecoder loadTaesd(Path dir, Path taesdDir, AutoencoderKLDecoder.Config vaeConfig,
                                                    int vaeUpscale, NDManager manager, DataType dtype,
                                                    boolean batchInvariant, boolean bfloat16) {
        Path root;
        String component;
        if (Files.isDirectory(dir.resolve(VAE_TINY))) {
            root = dir;
            component = VAE_TINY;
        } else if (taesdDir != null) {
            if (!Files.isDirectory(taesdDir)) {
                throw new ModelException(taesdDir + ": TAESD folder not found");
            }
            root = taesdDir.toAbsolutePath().getParent();
            component = taesdDir.toAbsolutePath().getFileName().toString();
        } else {
            return null;
        }
        AutoencoderTinyDecoder.Config config = AutoencoderTinyDecoder.Config.read(
                ModelConfig.read(root, component + "/config.json"));
        if (config.latentChannels() != vaeConfig.latentChannels()) {
            throw new ModelException(component + "/config.json: latent_channels is " + config.latentChannels()
                    + " but vae/config.json has " + vaeConfig.latentChannels());
        }
        AutoencoderTinyDecoder decoder;
        try (SafetensorsSource source = source(root, component, "diffusion_pytorch_model", manager, dtype)) {
            decoder = new AutoencoderTinyDecoder(config, new Weights(source, batchInvariant, bfloat16));
            // the encoder half is not needed to make images
            warnUnused(component, source.unused().stream().filter(k -> !k.startsWith("encoder."))
                    .collect(Collectors.toSet()));
        }
        if (decoder.upscale() != vaeUpscale) {
            throw new ModelException(component + "/config.json: its decoder upscales " + decoder.upscale()
                    + "x but vae/ upscales " + vaeUpscale + "x: they must turn the same latents into the same size");
        }
        return decoder;
    }

    /** The component's weights file: the plain safetensors if present, else the .fp16 variant. */
    static SafetensorsSource source(Path dir, String component, String stem, NDManager manager, DataType dtype) {
        Path plain = dir.resolve(component).resolve(stem + ".safetensors");
        Path fp16 = dir.resolve(component).resolve(stem + ".fp16.safetensors");
        Path file = Files.isRegularFile(plain) ? plain : fp16;
        if (!Files.isRegularFile(file)) {
            throw new ModelException(component + "/" + stem + ".safetensors: file not found (nor " + stem
                    + ".fp16.safetensors) in model folder " + dir);
        }
        return new SafetensorsSource(Safetensors.open(file), manager, dtype, component + "/config.json");
    }

    private static void warnUnused(String component, Set<String> unused, String... expected) {
        Set<String> surprising = unused.stream().filter(k -> !Set.of(expected).contains(k)).collect(Collectors.toSet());
        if (!surprising.isEmpty()) {
            LOG.warn("{}: {} tensors in the weights file are not used by the configured architecture, e.g. {}",
                    component, surprising.size(), surprising.iterator().next());
        }
    }
}
