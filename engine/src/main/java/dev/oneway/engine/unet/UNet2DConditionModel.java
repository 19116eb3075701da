package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.Conv2d;
import dev.oneway.engine.nn.GroupNorm;
import dev.oneway.engine.nn.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' UNet2DConditionModel, cut where TiUE cuts it: {@link #encode} (conv_in, down blocks keeping
 * every residual, mid block) and {@link #decode} (up blocks fed by those residuals, norm, SiLU, conv_out).
 * The classic UNet forward is simply decode(encode(x, t), t).
 */
public final class UNet2DConditionModel {

    /** What the encoder hands the decoder: the skip residuals (conv_in first) and the mid block output. */
    public record EncoderFeatures(List<NDArray> skips, NDArray mid) {

        /**
         * The same features for K decoder copies, step-major ([b0, b1, .., b0, b1, ..]) as Loopfree's
         * se_parallel repeats them, so copy k*B + i pairs job i with timestep k.
         */
        public EncoderFeatures repeat(int k) {
            List<NDArray> repeated = new ArrayList<>();
            for (NDArray s : skips) {
                repeated.add(Ops.repeatBatch(s, k));
            }
            return new EncoderFeatures(repeated, Ops.repeatBatch(mid, k));
        }
    }

    private final UNetConfig config;
    private final TimestepEmbedding time_embedding;
    private final Conv2d conv_in;
    private final List<DownBlock2D> down_blocks = new ArrayList<>();
    private final UNetMidBlock2DCrossAttn mid_block;
    private final List<UpBlock2D> up_blocks = new ArrayList<>();
    private final GroupNorm conv_norm_out;
    private final Conv2d conv_out;

    public UNet2DConditionModel(UNetConfig config, Weights w) {
        this.config = config;
        this.time_embedding = TimestepEmbedding.load(w.at("time_embedding"), config);
        this.conv_in = Conv2d.load(w.at("conv_in"), config.inChannels(), config.blockOutChannels()[0], 3);
        for (int i = 0; i < config.blocks(); i++) {
            down_blocks.add(DownBlock2D.load(w.at("down_blocks").at(i), config, i));
        }
        this.mid_block = UNetMidBlock2DCrossAttn.load(w.at("mid_block"), config);
        for (int i = 0; i < config.blocks(); i++) {
            up_blocks.add(UpBlock2D.load(w.at("up_blocks").at(i), config, i));
        }
        this.conv_norm_out = GroupNorm.load(w.at("conv_norm_out"), config.normNumGroups(), config.blockOutChannels()[0],
                config.normEps());
        this.conv_out = Conv2d.load(w.at("conv_out"), config.blockOutChannels()[0], config.outChannels(), 3);
    }

    public UNetConfig config() {
        return config;
    }

    /**
     * The time condition of a batch whose rows are grouped by timestep: row block u (of rowsEach rows)
     * is at timesteps[u].
     */
    public TimeCondition timeCondition(NDManager manager, int[] timesteps, int rowsEach, DataType dtype) {
        return new TimeCondition(time_embedding.forward(manager, timesteps, dtype), rowsEach);
    }

    /** latents [B, in_channels, h, w], temb for B rows, text [B, L, crossDim] -> residuals and mid features. */
    public EncoderFeatures encode(NDArray latents, TimeCondition temb, NDArray text) {
        List<NDArray> skips = new ArrayList<>();
        NDArray h = conv_in.forward(latents, temb.jobs());
        skips.add(h);
        for (DownBlock2D block : down_blocks) {
            h = block.forward(h, temb, text, skips);
        }
        return new EncoderFeatures(skips, mid_block.forward(h, temb, text));
    }

    /** features of N rows, temb for N rows, text [N, L, crossDim] -> noise predictions [N, out_channels, h, w]. */
    public NDArray decode(EncoderFeatures features, TimeCondition temb, NDArray text) {
        List<NDArray> skips = new ArrayList<>(features.skips());
        NDArray h = features.mid();
        for (UpBlock2D block : up_blocks) {
            h = Ops.replacing(h, block.forward(h, temb, text, skips), features.mid()); // the features are the caller's
        }
        NDArray last = h;
        return Ops.replacing(h, Ops.scoped(() -> conv_out.forward(conv_norm_out.forwardSilu(last), temb.jobs())),
                features.mid());
    }
}
