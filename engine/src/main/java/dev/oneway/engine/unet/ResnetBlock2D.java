package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.Conv2d;
import dev.oneway.engine.nn.GroupNorm;
import dev.oneway.engine.nn.Linear;
import dev.oneway.engine.nn.Ops;

/**
 * diffusers' ResnetBlock2D: norm1, SiLU, conv1, + time embedding projection, norm2, SiLU, conv2, plus
 * the (1x1-projected when channels change) input. The VAE uses it without a time embedding.
 */
public record ResnetBlock2D(GroupNorm norm1, Conv2d conv1, Linear time_emb_proj, GroupNorm norm2, Conv2d conv2,
                            Conv2d conv_shortcut) {

    /** @param timeEmbedDim 0 for blocks without a time embedding (VAE) */
    public static ResnetBlock2D load(Weights w, int in, int out, int timeEmbedDim, int groups, double eps) {
        return new ResnetBlock2D(
                GroupNorm.load(w.at("norm1"), groups, in, eps),
                Conv2d.load(w.at("conv1"), in, out, 3),
                timeEmbedDim > 0 ? Linear.load(w.at("time_emb_proj"), timeEmbedDim, out) : null,
                GroupNorm.load(w.at("norm2"), groups, out, eps),
                Conv2d.load(w.at("conv2"), out, out, 3),
                in != out ? Conv2d.load(w.at("conv_shortcut"), in, out, 1) : null);
    }

    /** @param temb the batch's time embedding, or null for blocks without one */
    public NDArray forward(NDArray x, TimeCondition temb) {
        return Ops.scoped(() -> {
            // each normalized input is closed once its convolution has read it (at 1024x1024 the VAE's are 0.5-1 GB)
            NDArray normed = norm1.forwardSilu(x);
            long jobs = temb == null ? x.getShape().get(0) : temb.jobs();
            NDArray h = Ops.replacing(normed, conv1.forward(normed, jobs));
            if (temb != null) {
                h = h.addi(temb.project(time_emb_proj));
            }
            NDArray normed2 = norm2.forwardSilu(h);
            h.close();
            h = Ops.replacing(normed2, conv2.forward(normed2, jobs));
            NDArray shortcut = conv_shortcut == null ? x : conv_shortcut.forward(x, jobs);
            return h.addi(shortcut);
        });
    }
}
