package dev.oneway.engine.tiny;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.oneway.engine.TorchRuntime;
import dev.oneway.engine.clip.ClipTextModel;
import dev.oneway.engine.model.ModelConfig;
import dev.oneway.engine.model.SafetensorsWriter;
import dev.oneway.engine.model.TensorType;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.unet.UNet2DConditionModel;
import dev.oneway.engine.unet.UNetConfig;
import dev.oneway.engine.vae.AutoencoderKLDecoder;
import dev.oneway.engine.vae.AutoencoderTinyDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes small random-weight models in the real diffusers layout, for tests and the default. The
 * configs are SD1.5's and SD2.1-base's with every width shrunk, so the real loaders and the real
 * architecture (all block kinds, both projection styles, both text activations) run in seconds.
 * The weights are made by building the real modules over a {@link RandomSource}, so every key and
 * shape is exactly what the loader will ask for.
 */
public final class TinyModels {
    private TinyModels() { }

    /** Bump when the generated layout or values change, so cached folders are rewritten. */
    private static final int VERSION = 2;
    private static final long SEED = 20250611L;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** SD1.5-style (quick_gelu CLIP, conv projections, int head count) or SD2.1-style (gelu, linear projections, per-block heads). */
    public enum Variant {
        SD15, SD21;

        public String folderName() {
            return this == SD15 ? "tiny-sd15" : "tiny-sd21";
        }
    }

    /**
     * The sizes that differ between generated models. Everything else is SD1.5's (sd21 = false) or
     * SD2.1-base's (sd21 = true) config as published.
     */
    record Architecture(boolean sd21, int textHidden, int textIntermediate, int textHeads, int textLayers,
                        int[] unetChannels, int unetLayers, int[] unetHeads, int groups, int sampleSize,
                        int[] vaeChannels, int vaeLayers, int vaeGroups, int[] taesdChannels, int[] taesdBlocks) { }

    /** TAESD as published (madebyollin/taesd): 64 channels, 3-3-3-1 blocks. */
    static final int[] TAESD_CHANNELS = {64, 64, 64, 64};
    static final int[] TAESD_BLOCKS = {3, 3, 3, 1};
    static final Architecture TINY_SD15 = new Architecture(false, 32, 64, 4, 2, new int[] {32, 64}, 1, new int[] {2},
            8, 8, new int[] {8, 8, 16, 16}, 1, 4, new int[] {8, 8, 8, 8}, new int[] {2, 2, 2, 1});
    static final Architecture TINY_SD21 = new Architecture(true, 32, 64, 4, 3, new int[] {32, 64}, 1, new int[] {2, 4},
            8, 8, new int[] {8, 8, 16, 16}, 1, 4, new int[] {8, 8, 8, 8}, new int[] {2, 2, 2, 1});

    /** Writes a complete model folder for the variant into dir (created if needed) and returns dir. */
    public static Path write(Path dir, Variant variant) {
        return write(dir, variant == Variant.SD21 ? TINY_SD21 : TINY_SD15, true);
    }

    /**
     * @param storeHalfVariants SD2.1-style models store text encoder weights as bf16 and the UNet as the .fp16 variant
     */
    static Path write(Path dir, Architecture a, boolean storeHalfVariants) {
        try {
            Files.createDirectories(dir);
            boolean sd21 = a.sd21();
            int vocabSize = TinyVocabulary.write(dir.resolve("tokenizer"), sd21);
            writeJson(dir.resolve("model_index.json"), modelIndex());
            writeJson(dir.resolve("scheduler/scheduler_config.json"), scheduler());
            writeJson(dir.resolve("text_encoder/config.json"), textEncoder(vocabSize, a));
            writeJson(dir.resolve("unet/config.json"), unet(a));
            writeJson(dir.resolve("vae/config.json"), vae(a));
            writeJson(dir.resolve("vae_tiny/config.json"), vaeTiny(a));
            try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                RandomSource text = new RandomSource(manager, SEED + 1);
                new ClipTextModel(ClipTextModel.Config.read(ModelConfig.read(dir, "text_encoder/config.json")), new Weights(text));
                RandomSource unet = new RandomSource(manager, SEED + 2);
                new UNet2DConditionModel(UNetConfig.read(ModelConfig.read(dir, "unet/config.json")), new Weights(unet));
                RandomSource vae = new RandomSource(manager, SEED + 3);
                new AutoencoderKLDecoder(AutoencoderKLDecoder.Config.read(ModelConfig.read(dir, "vae/config.json")), new Weights(vae));
                RandomSource vaeTiny = new RandomSource(manager, SEED + 4);
                new AutoencoderTinyDecoder(AutoencoderTinyDecoder.Config.read(
                        ModelConfig.read(dir, "vae_tiny/config.json")), new Weights(vaeTiny));
                // half-precision variants exercise the F16 and BF16 readers, as fp16 downloads do
                boolean half = sd21 && storeHalfVariants;
                SafetensorsWriter.write(dir.resolve("text_encoder/model.safetensors"), text.tensors(),
                        half ? TensorType.BF16 : TensorType.F32);
                SafetensorsWriter.write(dir.resolve(half ? "unet/diffusion_pytorch_model.fp16.safetensors"
                        : "unet/diffusion_pytorch_model.safetensors"), unet.tensors(), half ? TensorType.F16 : TensorType.F32);
                SafetensorsWriter.write(dir.resolve("vae/diffusion_pytorch_model.safetensors"), vae.tensors(), TensorType.F32);
                SafetensorsWriter.write(dir.resolve("vae_tiny/diffusion_pytorch_model.safetensors"), vaeTiny.tensors(),
                        TensorType.F32);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tiny model to " + dir, e);
        }
    }

    /**
     * Writes only vae/ and vae_tiny/ of Stable Diffusion's real sizes (AutoencoderKL 128/256/512/512, TAESD as
     * published) with random weights, for measuring the decoders without a several-GB UNet.
     */
    public static Path writeRealSizeDecoders(Path dir) {
        Architecture a = RandomModels.SD15;
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            writeJson(dir.resolve("vae/config.json"), vae(a));
            writeJson(dir.resolve("vae_tiny/config.json"), vaeTiny(a));
            RandomSource vae = new RandomSource(manager, SEED + 3);
            new AutoencoderKLDecoder(AutoencoderKLDecoder.Config.read(ModelConfig.read(dir, "vae/config.json")), new Weights(vae));
            RandomSource vaeTiny = new RandomSource(manager, SEED + 4);
            new AutoencoderTinyDecoder(AutoencoderTinyDecoder.Config.read(
                    ModelConfig.read(dir, "vae_tiny/config.json")), new Weights(vaeTiny));
            SafetensorsWriter.write(dir.resolve("vae/diffusion_pytorch_model.safetensors"), vae.tensors(), TensorType.F32);
            SafetensorsWriter.write(dir.resolve("vae_tiny/diffusion_pytorch_model.safetensors"), vaeTiny.tensors(),
                    TensorType.F32);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write decoders to " + dir, e);
        }
    }

    /** The variant's folder under the JVM's temp dir, written once per version and reused. */
    public static Path cached(Variant variant) {
        return cached(variant.folderName(), variant == Variant.SD21 ? TINY_SD21 : TINY_SD15, true);
    }

    static synchronized Path cached(String name, Architecture architecture, boolean storeHalfVariants) {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "oneway-models");
        Path dir = root.resolve(name + "-v" + VERSION);
        if (Files.isRegularFile(dir.resolve("model_index.json"))) {
            return dir;
        }
        try {
            Files.createDirectories(root);
            Path staging = Files.createTempDirectory(root, name + "-");
            write(staging, architecture, storeHalfVariants);
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                if (!Files.isRegularFile(dir.resolve("model_index.json"))) {
                    throw raced;
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot cache generated model under " + root, e);
        }
    }

    /**
     * model_index.json as diffusers' save_pretrained writes it: keys sorted, each component a [library, class]
     * pair, and an absent optional component as [null, null] (a bare null is not loadable by DiffusionPipeline).
     * vae_tiny is not a StableDiffusionPipeline component, so it is not named here.
     */
    static ObjectNode modelIndex() {
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", "StableDiffusionPipeline");
        n.put("_diffusers_version", "0.27.2");
        n.putArray("feature_extractor").addNull().addNull();
        n.putArray("image_encoder").addNull().addNull();
        n.put("requires_safety_checker", false);
        n.putArray("safety_checker").addNull().addNull();
        n.putArray("scheduler").add("diffusers").add("DDIMScheduler");
        n.putArray("text_encoder").add("transformers").add("CLIPTextModel");
        n.putArray("tokenizer").add("transformers").add("CLIPTokenizer");
        n.putArray("unet").add("diffusers").add("UNet2DConditionModel");
        n.putArray("vae").add("diffusers").add("AutoencoderKL");
        return n;
    }

    private static ObjectNode scheduler() {
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", "DDIMScheduler");
        n.put("beta_end", 0.012);
        n.put("beta_schedule", "scaled_linear");
        n.put("beta_start", 0.00085);
        n.put("clip_sample", false);
        n.put("num_train_timesteps", 1000);
        n.put("prediction_type", "epsilon");
        n.put("set_alpha_to_one", false);
        n.put("steps_offset", 1);
        n.put("timestep_spacing", "leading");
        n.putNull("trained_betas");
        return n;
    }

    private static ObjectNode textEncoder(int vocabSize, Architecture a) {
        boolean sd21 = a.sd21();
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add("CLIPTextModel");
        n.put("bos_token_id", 0);
        n.put("eos_token_id", 2);
        n.put("hidden_act", sd21 ? "gelu" : "quick_gelu");
        n.put("hidden_size", a.textHidden());
        n.put("intermediate_size", a.textIntermediate());
        n.put("layer_norm_eps", 1e-5);
        n.put("max_position_embeddings", 77);
        n.put("model_type", "clip_text_model");
        n.put("num_attention_heads", a.textHeads());
        n.put("num_hidden_layers", a.textLayers());
        n.put("projection_dim", a.textHidden());
        n.put("torch_dtype", "float32");
        n.put("vocab_size", vocabSize);
        return n;
    }

    private static ObjectNode unet(Architecture a) {
        boolean sd21 = a.sd21();
        int blocks = a.unetChannels().length;
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", "UNet2DConditionModel");
        n.put("act_fn", "silu");
        if (a.unetHeads().length == 1) {
            n.put("attention_head_dim", a.unetHeads()[0]);
        } else {
            ints(n.putArray("attention_head_dim"), a.unetHeads());
        }
        ints(n.putArray("block_out_channels"), a.unetChannels());
        n.put("center_input_sample", false);
        n.put("cross_attention_dim", a.textHidden());
        var down = n.putArray("down_block_types");
        var up = n.putArray("up_block_types");
        for (int i = 0; i < blocks; i++) {
            down.add(i == blocks - 1 ? "DownBlock2D" : "CrossAttnDownBlock2D");
            up.add(i == 0 ? "UpBlock2D" : "CrossAttnUpBlock2D");
        }
        n.put("downsample_padding", 1);
        n.put("flip_sin_to_cos", true);
        n.put("freq_shift", 0);
        n.put("in_channels", 4);
        n.put("layers_per_block", a.unetLayers());
        n.put("mid_block_scale_factor", 1);
        n.put("norm_eps", 1e-5);
        n.put("norm_num_groups", a.groups());
        n.put("out_channels", 4);
        n.put("sample_size", a.sampleSize());
        n.put("use_linear_projection", sd21);
        if (sd21) {
            n.put("upcast_attention", true);
        }
        return n;
    }

    private static ObjectNode vae(Architecture a) {
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", "AutoencoderKL");
        n.put("act_fn", "silu");
        ints(n.putArray("block_out_channels"), a.vaeChannels());
        var down = n.putArray("down_block_types");
        var up = n.putArray("up_block_types");
        for (int i = 0; i < a.vaeChannels().length; i++) {
            down.add("DownEncoderBlock2D");
            up.add("UpDecoderBlock2D");
        }
        n.put("in_channels", 3);
        n.put("latent_channels", 4);
        n.put("layers_per_block", a.vaeLayers());
        n.put("norm_num_groups", a.vaeGroups());
        n.put("out_channels", 3);
        n.put("sample_size", a.sampleSize() * 8);
        n.put("scaling_factor", 0.18215);
        return n;
    }

    /** diffusers' AutoencoderTiny config, as madebyollin/taesd publishes it, with the architecture's sizes. */
    private static ObjectNode vaeTiny(Architecture a) {
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", "AutoencoderTiny");
        n.put("_diffusers_version", "0.27.2");
        n.put("act_fn", "relu");
        ints(n.putArray("decoder_block_out_channels"), a.taesdChannels());
        ints(n.putArray("encoder_block_out_channels"), a.taesdChannels());
        n.put("force_upcast", false);
        n.put("in_channels", 3);
        n.put("latent_channels", 4);
        n.put("latent_magnitude", 3);
        n.put("latent_shift", 0.5);
        ints(n.putArray("num_decoder_blocks"), a.taesdBlocks());
        ints(n.putArray("num_encoder_blocks"), new int[] {1, 3, 3, 3});
        n.put("out_channels", 3);
        n.put("scaling_factor", 1.0);
        n.put("upsampling_scaling_factor", 2);
        return n;
    }

    private static void ints(com.fasterxml.jackson.databind.node.ArrayNode array, int[] values) {
        for (int v : values) {
            array.add(v);
        }
    }

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
    }
}
