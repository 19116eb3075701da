package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.model.Weights;

/** torch.nn.Linear: y = x W^T + b over the last axis; bias may be absent (attention projections). */
public record Linear(NDArray weight, NDArray bias) {

    public static Linear load(Weights w, int in, int out) {
        return new Linear(w.get("weight", out, in), w.get("bias", out));
    }

    public static Linear loadNoBias(Weights w, int in, int out) {
        return new Linear(w.get("weight", out, in), null);
    }

    public NDArray forward(NDArray x) {
        return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }
}
