package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.model.Weights;

/** resnets.0, attentions.0, resnets.1 at the lowest resolution. */
public record UNetMidBlock2DCrossAttn(ResnetBlock2D resnet0, Transformer2DModel attention, ResnetBlock2D resnet1) {

    public static UNetMidBlock2DCrossAttn load(Weights w, UNetConfig c) {
        int channels = c.blockOutChannels()[c.blocks() - 1];
        int heads = c.headsPerBlock()[c.blocks() - 1];
        return new UNetMidBlock2DCrossAttn(
                ResnetBlock2D.load(w.at("resnets").at(0), channels, channels, c.timeEmbedDim(), c.normNumGroups(), c.normEps()),
                Transformer2DModel.load(w.at("attentions").at(0), channels, heads, c.crossAttentionDim(),
                        c.useLinearProjection(), c.normNumGroups()),
                ResnetBlock2D.load(w.at("resnets").at(1), channels, channels, c.timeEmbedDim(), c.normNumGroups(), c.normEps()));
    }

    public NDArray forward(NDArray x, TimeCondition temb, NDArray text) {
        return resnet1.forward(attention.forward(resnet0.forward(x, temb), text, temb.jobs()), temb);
    }
}
