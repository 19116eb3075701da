package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.UpsampleConv2d;
import dev.oneway.engine.nn.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' CrossAttnUpBlock2D and UpBlock2D: each resnet takes the running features concatenated with
 * one skip residual (latest first), optionally followed by a transformer; then a nearest 2x upsample + conv.
 */
public record UpBlock2D(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions, UpsampleConv2d upsampler) {

    public static UpBlock2D load(Weights w, UNetConfig c, int index) {
        int blocks = c.blocks();
        int[] reversed = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            reversed[i] = c.blockOutChannels()[blocks - 1 - i];
        }
        int out = reversed[index];
        int prevOut = index == 0 ? reversed[0] : reversed[index - 1];
        int skipIn = reversed[Math.min(index + 1, blocks - 1)];
        int heads = c.headsPerBlock()[blocks - 1 - index];
        boolean crossAttention = c.upBlockTypes().get(index).equals(UNetConfig.CROSS_UP);
        List<ResnetBlock2D> resnets = new ArrayList<>();
        List<Transformer2DModel> attentions = new ArrayList<>();
        int layers = c.layersPerBlock() + 1;
        for (int j = 0; j < layers; j++) {
            int skip = j == layers - 1 ? skipIn : out;
            int resnetIn = j == 0 ? prevOut : out;
            resnets.add(ResnetBlock2D.load(w.at("resnets").at(j), resnetIn + skip, out, c.timeEmbedDim(),
                    c.normNumGroups(), c.normEps()));
            if (crossAttention) {
                attentions.add(Transformer2DModel.load(w.at("attentions").at(j), out, heads, c.crossAttentionDim(),
                        c.useLinearProjection(), c.normNumGroups()));
            }
        }
        boolean last = index == blocks - 1;
        UpsampleConv2d upsampler = last ? null : UpsampleConv2d.load(w.at("upsamplers").at(0).at("conv"), out);
        return new UpBlock2D(resnets, attentions, upsampler);
    }

    /** Consumes residuals from the end of {@code skips} (removing them). */
    public NDArray forward(NDArray x, TimeCondition temb, NDArray text, List<NDArray> skips) {
        // Closes every array it made but the result (x and the skips are the caller's).
        NDArray h = x;
        for (int j = 0; j < resnets.size(); j++) {
            NDArray skip = skips.remove(skips.size() - 1);
            NDArray joined = Ops.replacing(h, NDArrays.concat(new NDList(h, skip), 1), x);
            h = Ops.replacing(joined, resnets.get(j).forward(joined, temb));
            if (!attentions.isEmpty()) {
                h = Ops.replacing(h, attentions.get(j).forward(h, text, temb.jobs()));
            }
        }
        if (upsampler != null) {
            h = Ops.replacing(h, upsampler.forward(h, temb.jobs()), x);
        }
        return h;
    }
}
