package dev.oneway.engine.vae;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.ModelException;
import dev.oneway.engine.model.ModelConfig;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.Conv2d;
import dev.oneway.engine.nn.UpsampleConv2d;
import dev.oneway.engine.nn.Ops;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The decoding half of diffusers' AutoencoderTiny (TAESD), the cheap decoder Loopfree's training used:
 * latents / scaling_factor (1.0 for TAESD: it decodes the diffusion latents as they are) -> soft clamp
 * tanh(x / 3) * 3 -> conv 3x3, ReLU -> per stage: AutoencoderTinyBlock x n (three 3x3 convs with ReLUs between,
 * plus the input, then ReLU), nearest 2x upsample and a bias-free conv (the last stage: no upsample, a conv with
 * bias to RGB) -> [0, 1] mapped to [-1, 1] as the full VAE's output is.
 *
 * <p>Weights are diffusers' {@code decoder.layers.N}: N counts every element of the Sequential, ReLUs and
 * upsamplers included, so the code walks the same indices.
 */
public final class AutoencoderTinyDecoder {

    /** vae_tiny/config.json. */
    public record Config(int latentChannels, int outChannels, int[] blockOutChannels, int[] numBlocks,
                         double scalingFactor) {
        public static Config read(ModelConfig c) {
            c.requireDefault("act_fn", "relu");
            c.requireDefault("upsample_fn", "nearest");
            c.requireDefault("upsampling_scaling_factor", 2);
            double shift = c.has("shift_factor") ? c.getDouble("shift_factor") : 0;
            if (shift != 0) {
                throw c.invalid("shift_factor", "0 (Stable Diffusion latents)", shift);
            }
            int[] channels = c.getInts("decoder_block_out_channels");
            int[] blocks = c.getInts("num_decoder_blocks");
            if (channels.length != blocks.length || channels.length == 0) {
                throw new ModelException(c.name() + ": num_decoder_blocks needs one entry per "
                        + "decoder_block_out_channels (" + channels.length + "), got " + blocks.length);
            }
            return new Config(c.getInt("latent_channels", 4), c.getInt("out_channels", 3), channels, blocks,
                    c.getDouble("scaling_factor", 1.0));
        }
    }

    /** AutoencoderTinyBlock with equal in and out channels (the decoder's case, so the skip is the identity). */
    record AutoencoderTinyBlock(Conv2d conv0, Conv2d conv2, Conv2d conv4) {
        static AutoencoderTinyBlock load(Weights w, int channels) {
            Weights conv = w.at("conv");
            return new AutoencoderTinyBlock(Conv2d.load(conv.at(0), channels, channels, 3),
                    Conv2d.load(conv.at(2), channels, channels, 3), Conv2d.load(conv.at(4), channels, channels, 3));
        }

        NDArray forward(NDArray x) {
            return Ops.scoped(() -> conv4.forward(conv2.forward(conv0.forward(x).maximum(0f)).maximum(0f))
                    .addi(x).maximum(0f));
        }
    }

    /**
     * One decoder stage: its blocks, then a 2x upsample and a conv ({@code upsampleConv}), or for the last stage a
     * conv alone ({@code conv}).
     */
    record Stage(List<AutoencoderTinyBlock> blocks, UpsampleConv2d upsampleConv, Conv2d conv) {
        NDArray forward(NDArray x) {
            NDArray h = x;
            for (AutoencoderTinyBlock block : blocks) {
                h = block.forward(h);
            }
            NDArray last = h;
            return upsampleConv != null ? upsampleConv.forward(last) : Ops.scoped(() -> conv.forward(last));
        }
    }

    private final Config config;
    private final Conv2d conv_in;
    private final List<Stage> stages = new ArrayList<>();

    public AutoencoderTinyDecoder(Config config, Weights w) {
        this.config = config;
        int[] ch = config.blockOutChannels();
        Weights layers = w.at("decoder").at("layers");
        this.conv_in = Conv2d.load(layers.at(0), config.latentChannels(), ch[0], 3);
        int index = 2; // after conv_in and its ReLU
        int prev = ch[0];
        for (int i = 0; i < ch.length; i++) {
            boolean last = i == ch.length - 1;
            if (prev != ch[i]) {
                // diffusers' decoder feeds stage i's blocks with stage i-1's conv output, which has ch[i-1]
                // channels; its blocks would then need a skip conv, which TAESD never has
                throw new ModelException("vae_tiny/config.json: decoder_block_out_channels must be all equal "
                        + "(TAESD's layout), got " + Arrays.toString(ch));
            }
            List<AutoencoderTinyBlock> blocks = new ArrayList<>();
            for (int j = 0; j < config.numBlocks()[i]; j++) {
                blocks.add(AutoencoderTinyBlock.load(layers.at(index++), ch[i]));
            }
            if (!last) {
                index++; // the Upsample
            }
            int out = last ? config.outChannels() : ch[i];
            stages.add(last
                    ? new Stage(blocks, null, Conv2d.load(layers.at(index++), ch[i], out, 3))
                    : new Stage(blocks, UpsampleConv2d.loadWithoutBias(layers.at(index++), ch[i]), null));
            prev = out;
        }
    }

    public Config config() {
        return config;
    }

    /** Pixel sides per latent side. */
    public int upscale() {
        return 1 << (config.blockOutChannels().length - 1);
    }

    /** latents [B, C, h, w] as the sampler produced them -> images [B, 3, h*f, w*f] in [-1, 1]. */
    public NDArray decode(NDArray latents) {
        NDArray h = Ops.scoped(() -> {
            NDArray scaled = latents.div((float) config.scalingFactor());
            return conv_in.forward(scaled.div(3f).tanh().muli(3f)).maximum(0f);
        });
        for (Stage stage : stages) {
            h = stage.forward(h);
        }
        NDArray rgb = h;
        return Ops.scoped(() -> rgb.mul(2f).subi(1f));
    }
}
