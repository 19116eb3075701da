package dev.oneway.engine.unet;

import dev.oneway.engine.ModelException;
import dev.oneway.engine.model.ModelConfig;
import java.util.List;

/**
 * unet/config.json as UNet2DConditionModel reads it, limited to what Stable Diffusion 1.x/2.x students
 * use; anything else fails loudly instead of loading a different network.
 */
public record UNetConfig(int inChannels, int outChannels, int[] blockOutChannels, List<String> downBlockTypes,
                         List<String> upBlockTypes, int layersPerBlock, int[] headsPerBlock, int crossAttentionDim,
                         boolean useLinearProjection, int normNumGroups, double normEps, boolean flipSinToCos,
                         int freqShift, int sampleSize) {

    public static final String CROSS_DOWN = "CrossAttnDownBlock2D";
    public static final String DOWN = "DownBlock2D";
    public static final String CROSS_UP = "CrossAttnUpBlock2D";
    public static final String UP = "UpBlock2D";

    public static UNetConfig read(ModelConfig c) {
        int[] channels = c.getInts("block_out_channels");
        int blocks = channels.length;
        List<String> down = c.getStrings("down_block_types");
        List<String> up = c.getStrings("up_block_types");
        if (down.size() != blocks || up.size() != blocks) {
            throw new ModelException(c.name() + ": down_block_types and up_block_types need one entry per block_out_channels ("
                    + blocks + ")");
        }
        for (String type : down) {
            if (!type.equals(CROSS_DOWN) && !type.equals(DOWN)) {
                throw new ModelException(c.name() + ": down block type " + type + " is not supported; supported: "
                        + CROSS_DOWN + ", " + DOWN);
            }
        }
        for (String type : up) {
            if (!type.equals(CROSS_UP) && !type.equals(UP)) {
                throw new ModelException(c.name() + ": up block type " + type + " is not supported; supported: "
                        + CROSS_UP + ", " + UP);
            }
        }
        // diffusers' legacy naming: attention_head_dim holds the number of heads unless num_attention_heads is set.
        String headsKey = c.has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
        int[] heads = c.getIntOrList(headsKey, blocks);
        c.requireDefault("mid_block_type", "UNetMidBlock2DCrossAttn");
        c.requireDefault("act_fn", "silu");
        c.requireDefault("time_embedding_type", "positional");
        c.requireDefault("resnet_time_scale_shift", "default");
        c.requireDefault("class_embed_type", "null");
        c.requireDefault("addition_embed_type", "null");
        c.requireDefault("encoder_hid_dim", "null");
        c.requireDefault("time_cond_proj_dim", "null");
        c.requireDefault("timestep_post_act", "null");
        c.requireDefault("time_embedding_dim", "null");
        c.requireDefault("num_class_embeds", "null");
        c.requireDefault("dual_cross_attention", false);
        c.requireDefault("only_cross_attention", false);
        c.requireDefault("center_input_sample", false);
        c.requireDefault("conv_in_kernel", 3);
        c.requireDefault("conv_out_kernel", 3);
        c.requireDefault("transformer_layers_per_block", 1);
        c.requireDefault("mid_block_scale_factor", 1);
        c.requireDefault("mid_block_only_cross_attention", "null");
        int crossDim = c.getInt("cross_attention_dim");
        for (int i = 0; i < blocks; i++) {
            if (channels[i] % heads[i] != 0) {
                throw new ModelException(c.name() + ": block " + i + " has " + channels[i] + " channels, not divisible by "
                        + heads[i] + " heads (" + headsKey + ")");
            }
        }
        return new UNetConfig(
                c.getInt("in_channels"),
                c.getInt("out_channels"),
                channels, down, up,
                c.getInt("layers_per_block"),
                heads,
                crossDim,
                c.getBoolean("use_linear_projection", false),
                c.getInt("norm_num_groups", 32),
                c.getDouble("norm_eps", 1e-5),
                c.getBoolean("flip_sin_to_cos", true),
                c.getInt("freq_shift", 0),
                c.getInt("sample_size", 64));
    }

    public int blocks() {
        return blockOutChannels.length;
    }

    public int timeEmbedDim() {
        return blockOutChannels[0] * 4;
    }

    /** Latent sides must be multiples of this (one halving per down block but the last). */
    public int latentMultiple() {
        return 1 << (blocks() - 1);
    }
}
