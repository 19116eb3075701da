package dev.oneway.engine.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.ModelException;
import dev.oneway.engine.model.ModelConfig;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.Conv2d;
import dev.oneway.engine.nn.UpsampleConv2d;
import dev.oneway.engine.nn.GroupNorm;
import dev.oneway.engine.nn.Linear;
import dev.oneway.engine.nn.Ops;
import dev.oneway.engine.unet.ResnetBlock2D;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoding half of diffusers' AutoencoderKL: latents / scaling_factor -> post_quant_conv -> decoder
 * (conv_in, mid block with single-head attention, UpDecoderBlock2D x n, norm, SiLU, conv_out) -> RGB in [-1, 1].
 */
public final class AutoencoderKLDecoder {

    /** vae/config.json. */
    public record Config(int latentChannels, int outChannels, int[] blockOutChannels, int layersPerBlock,
                         int normNumGroups, double scalingFactor, boolean midBlockAttention) {
        public static Config read(ModelConfig c) {
            for (String type : c.getStrings("up_block_types")) {
                if (!type.equals("UpDecoderBlock2D")) {
                    throw new ModelException(c.name() + ": up block type " + type + " is not supported; supported: UpDecoderBlock2D");
                }
            }
            c.requireDefault("act_fn", "silu");
            c.requireDefault("shift_factor", "null");
            c.requireDefault("use_quant_conv", true);
            c.requireDefault("use_post_quant_conv", true);
            int[] channels = c.getInts("block_out_channels");
            if (c.getStrings("up_block_types").size() != channels.length) {
                throw new ModelException(c.name() + ": up_block_types needs one entry per block_out_channels (" + channels.length + ")");
            }
            return new Config(c.getInt("latent_channels"), c.getInt("out_channels", 3), channels,
                    c.getInt("layers_per_block"), c.getInt("norm_num_groups", 32), c.getDouble("scaling_factor", 0.18215),
                    c.getBoolean("mid_block_add_attention", true));
        }
    }

    /** The mid block's attention: group_norm, to_q/k/v/out with biases, one head over all channels. */
    record SpatialAttention(GroupNorm group_norm, Linear to_q, Linear to_k, Linear to_v, Linear to_out) {
        static SpatialAttention load(Weights w, int channels, int groups) {
            // checkpoints saved before diffusers 0.14 name the projections query/key/value/proj_attn
            boolean legacy = !w.contains("to_q.weight") && w.contains("query.weight");
            return new SpatialAttention(GroupNorm.load(w.at("group_norm"), groups, channels, 1e-6),
                    Linear.load(w.at(legacy ? "query" : "to_q"), channels, channels),
                    Linear.load(w.at(legacy ? "key" : "to_k"), channels, channels),
                    Linear.load(w.at(legacy ? "value" : "to_v"), channels, channels),
                    Linear.load(legacy ? w.at("proj_attn") : w.at("to_out").at(0), channels, channels));
        }

        NDArray forward(NDArray x) {
            return Ops.scoped(() -> {
                Shape s = x.getShape();
                NDArray tokens = group_norm.forward(x).reshape(s.get(0), s.get(1), -1).transpose(0, 2, 1);
                NDArray attended = to_out.forward(Ops.attention(to_q.forward(tokens), to_k.forward(tokens),
                        to_v.forward(tokens), 1, null));
                return attended.transpose(0, 2, 1).reshape(s).addi(x);
            });
        }
    }

    record UpDecoderBlock2D(List<ResnetBlock2D> resnets, UpsampleConv2d upsampler) {
        /** Closes every array it made but the result; {@code x} is the caller's. */
        NDArray forward(NDArray x) {
            NDArray h = x;
            for (ResnetBlock2D r : resnets) {
                h = Ops.replacing(h, r.forward(h, null), x);
            }
            if (upsampler != null) {
                h = Ops.replacing(h, upsampler.forward(h), x);
            }
            return h;
        }
    }

    private final Config config;
    private final Conv2d post_quant_conv;
    private final Conv2d conv_in;
    private final ResnetBlock2D midResnet0;
    private final SpatialAttention midAttention;
    private final ResnetBlock2D midResnet1;
    private final List<UpDecoderBlock2D> up_blocks = new ArrayList<>();
    private final GroupNorm conv_norm_out;
    private final Conv2d conv_out;

    public AutoencoderKLDecoder(Config config, Weights w) {
        this.config = config;
        int latent = config.latentChannels();
        int[] ch = config.blockOutChannels();
        int blocks = ch.length;
        int groups = config.normNumGroups();
        int top = ch[blocks - 1];
        this.post_quant_conv = Conv2d.load(w.at("post_quant_conv"), latent, latent, 1);
        Weights d = w.at("decoder");
        this.conv_in = Conv2d.load(d.at("conv_in"), latent, top, 3);
        Weights mid = d.at("mid_block");
        this.midResnet0 = ResnetBlock2D.load(mid.at("resnets").at(0), top, top, 0, groups, 1e-6);
        this.midAttention = config.midBlockAttention() ? SpatialAttention.load(mid.at("attentions").at(0), top, groups) : null;
        this.midResnet1 = ResnetBlock2D.load(mid.at("resnets").at(1), top, top, 0, groups, 1e-6);
        int prev = top;
        for (int i = 0; i < blocks; i++) {
            int out = ch[blocks - 1 - i];
            Weights b = d.at("up_blocks").at(i);
            List<ResnetBlock2D> resnets = new ArrayList<>();
            for (int j = 0; j < config.layersPerBlock() + 1; j++) {
                resnets.add(ResnetBlock2D.load(b.at("resnets").at(j), j == 0 ? prev : out, out, 0, groups, 1e-6));
            }
            UpsampleConv2d up = i == blocks - 1 ? null : UpsampleConv2d.load(b.at("upsamplers").at(0).at("conv"), out);
            up_blocks.add(new UpDecoderBlock2D(resnets, up));
            prev = out;
        }
        this.conv_norm_out = GroupNorm.load(d.at("conv_norm_out"), groups, ch[0], 1e-6);
        this.conv_out = Conv2d.load(d.at("conv_out"), ch[0], config.outChannels(), 3);
    }

    public Config config() {
        return config;
    }

    /** Pixel sides per latent side. */
    public int upscale() {
        return 1 << (config.blockOutChannels().length - 1);
    }

    /** latents [B, latent_channels, h, w] as the sampler produced them -> images [B, 3, h*8, w*8] in [-1, 1] (unclamped). */
    public NDArray decode(NDArray latents) {
        // Each stage's input is closed once its output exists, so a pass holds two stages' activations, not all.
        NDArray h = Ops.scoped(() -> conv_in.forward(post_quant_conv.forward(latents.div((float) config.scalingFactor()))));
        h = Ops.replacing(h, midResnet0.forward(h, null));
        if (midAttention != null) {
            h = Ops.replacing(h, midAttention.forward(h));
        }
        h = Ops.replacing(h, midResnet1.forward(h, null));
        for (UpDecoderBlock2D block : up_blocks) {
            h = Ops.replacing(h, block.forward(h));
        }
        NDArray last = h;
        return Ops.replacing(h, Ops.scoped(() -> conv_out.forward(conv_norm_out.forwardSilu(last))));
    }
}
