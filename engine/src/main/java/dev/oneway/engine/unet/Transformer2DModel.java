package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.Conv2d;
import dev.oneway.engine.nn.GroupNorm;
import dev.oneway.engine.nn.LayerNorm;
import dev.oneway.engine.nn.Linear;
import dev.oneway.engine.nn.Ops;
import dev.oneway.engine.nn.TorchOps;

/**
 * diffusers' Transformer2DModel with one BasicTransformerBlock: group norm, proj_in (1x1 conv, or linear
 * when use_linear_projection), self-attention, cross-attention on the text, GEGLU feed-forward, proj_out,
 * plus the input.
 */
public record Transformer2DModel(GroupNorm norm, Conv2d proj_in_conv, Linear proj_in_linear,
                                 BasicTransformerBlock block, Conv2d proj_out_conv, Linear proj_out_linear) {

    public static Transformer2DModel load(Weights w, int channels, int heads, int crossDim, boolean linearProjection,
                                          int groups) {
        BasicTransformerBlock block = BasicTransformerBlock.load(w.at("transformer_blocks").at(0), channels, heads, crossDim);
        GroupNorm norm = GroupNorm.load(w.at("norm"), groups, channels, 1e-6);
        if (linearProjection) {
            return new Transformer2DModel(norm, null, Linear.load(w.at("proj_in"), channels, channels), block,
                    null, Linear.load(w.at("proj_out"), channels, channels));
        }
        return new Transformer2DModel(norm, Conv2d.load(w.at("proj_in"), channels, channels, 1), null, block,
                Conv2d.load(w.at("proj_out"), channels, channels, 1), null);
    }

    /** x [N, C, H, W], text [N, L, crossDim]; N rows of {@code jobs} jobs ({@link TimeCondition#jobs}). */
    public NDArray forward(NDArray x, NDArray text, long jobs) {
        return Ops.scoped(() -> {
            Shape s = x.getShape();
            long n = s.get(0);
            long c = s.get(1);
            long h = s.get(2);
            long w = s.get(3);
            NDArray tokens;
            NDArray normed = norm.forward(x);
            if (proj_in_linear != null) {
                tokens = proj_in_linear.forward(toTokens(normed));
            } else {
                tokens = toTokens(proj_in_conv.forward(normed, jobs));
            }
            tokens = block.forward(tokens, text);
            NDArray out;
            if (proj_out_linear != null) {
                out = toImage(proj_out_linear.forward(tokens), n, c, h, w);
            } else {
                out = proj_out_conv.forward(toImage(tokens, n, c, h, w), jobs);
            }
            return out.addi(x);
        });
    }

    private static NDArray toTokens(NDArray image) {
        Shape s = image.getShape();
        return image.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
    }

    private static NDArray toImage(NDArray tokens, long n, long c, long h, long w) {
        return tokens.transpose(0, 2, 1).reshape(n, c, h, w);
    }

    /** Self-attention, cross-attention and feed-forward, each pre-normed and residual. */
    public record BasicTransformerBlock(LayerNorm norm1, Attention attn1, LayerNorm norm2, Attention attn2,
                                        LayerNorm norm3, GegluFeedForward ff) {

        static BasicTransformerBlock load(Weights w, int dim, int heads, int crossDim) {
            return new BasicTransformerBlock(
                    LayerNorm.load(w.at("norm1"), dim, 1e-5),
                    Attention.load(w.at("attn1"), dim, dim, heads, false),
                    LayerNorm.load(w.at("norm2"), dim, 1e-5),
                    Attention.load(w.at("attn2"), dim, crossDim, heads, false),
                    LayerNorm.load(w.at("norm3"), dim, 1e-5),
                    GegluFeedForward.load(w.at("ff"), dim));
        }

        NDArray forward(NDArray x, NDArray text) {
            // each sub-layer in a scope of its own: its temporaries (q, k, v; the feed-forward's 4x and 8x wide
            // projections) are freed before the next one starts
            NDArray h = x.add(Ops.scoped(() -> attn1.forward(norm1.forward(x), null)));
            NDArray afterSelf = h;
            h = h.addi(Ops.scoped(() -> attn2.forward(norm2.forward(afterSelf), text)));
            NDArray afterCross = h;
            return h.addi(Ops.scoped(() -> ff.forward(norm3.forward(afterCross))));
        }
    }

    /** net.0 = GEGLU (one projection to 2 x inner, value * gelu(gate)), net.2 = projection back. */
    public record GegluFeedForward(Linear proj, Linear out) {
        static GegluFeedForward load(Weights w, int dim) {
            int inner = dim * 4;
            return new GegluFeedForward(Linear.load(w.at("net").at(0).at("proj"), dim, inner * 2),
                    Linear.load(w.at("net").at(2), inner, dim));
        }

        NDArray forward(NDArray x) {
            return out.forward(TorchOps.geglu(proj.forward(x)));
        }
    }
}
