package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.Linear;
import dev.oneway.engine.nn.Ops;

/**
 * diffusers' Attention: to_q from the hidden states, to_k / to_v from the context (the text for cross-
 * attention, the hidden states themselves for self-attention), then to_out.0. Projections to q/k/v carry
 * a bias only where the checkpoint has one (UNet: none; VAE: yes).
 */
public record Attention(Linear to_q, Linear to_k, Linear to_v, Linear to_out, int heads) {

    public static Attention load(Weights w, int dim, int contextDim, int heads, boolean qkvBias) {
        return new Attention(
                qkvBias ? Linear.load(w.at("to_q"), dim, dim) : Linear.loadNoBias(w.at("to_q"), dim, dim),
                qkvBias ? Linear.load(w.at("to_k"), contextDim, dim) : Linear.loadNoBias(w.at("to_k"), contextDim, dim),
                qkvBias ? Linear.load(w.at("to_v"), contextDim, dim) : Linear.loadNoBias(w.at("to_v"), contextDim, dim),
                Linear.load(w.at("to_out").at(0), dim, dim),
                heads);
    }

    /** x [N, Nq, dim]; context [N, Nk, contextDim] or null for self-attention. */
    public NDArray forward(NDArray x, NDArray context) {
        NDArray kv = context == null ? x : context;
        return to_out.forward(Ops.attention(to_q.forward(x), to_k.forward(kv), to_v.forward(kv), heads, null));
    }
}
