package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.Conv2d;
import dev.oneway.engine.nn.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' CrossAttnDownBlock2D (resnet then transformer, per layer) and DownBlock2D (resnets only):
 * the same walk, with or without attentions. Every layer's output is kept as a skip residual, and so is
 * the downsampled output.
 */
public record DownBlock2D(List<ResnetBlock2D> resnets, List<Transformer2DModel> attentions, Conv2d downsampler) {

    public static DownBlock2D load(Weights w, UNetConfig c, int index) {
        boolean crossAttention = c.downBlockTypes().get(index).equals(UNetConfig.CROSS_DOWN);
        int in = index == 0 ? c.blockOutChannels()[0] : c.blockOutChannels()[index - 1];
        int out = c.blockOutChannels()[index];
        List<ResnetBlock2D> resnets = new ArrayList<>();
        List<Transformer2DModel> attentions = new ArrayList<>();
        for (int j = 0; j < c.layersPerBlock(); j++) {
            resnets.add(ResnetBlock2D.load(w.at("resnets").at(j), j == 0 ? in : out, out, c.timeEmbedDim(),
                    c.normNumGroups(), c.normEps()));
            if (crossAttention) {
                attentions.add(Transformer2DModel.load(w.at("attentions").at(j), out, c.headsPerBlock()[index],
                        c.crossAttentionDim(), c.useLinearProjection(), c.normNumGroups()));
            }
        }
        boolean last = index == c.blocks() - 1;
        Conv2d downsampler = last ? null : Conv2d.load(w.at("downsamplers").at(0).at("conv"), out, out, 3, 2, 1);
        return new DownBlock2D(resnets, attentions, downsampler);
    }

    /** Runs the block, appending each residual to {@code skips}; returns the block's output. */
    public NDArray forward(NDArray x, TimeCondition temb, NDArray text, List<NDArray> skips) {
        NDArray h = x;
        for (int j = 0; j < resnets.size(); j++) {
            h = resnets.get(j).forward(h, temb);
            if (!attentions.isEmpty()) {
                h = Ops.replacing(h, attentions.get(j).forward(h, text, temb.jobs())); // the resnet's output is no skip
            }
            skips.add(h);
        }
        if (downsampler != null) {
            h = downsampler.forward(h, temb.jobs());
            skips.add(h);
        }
        return h;
    }
}
