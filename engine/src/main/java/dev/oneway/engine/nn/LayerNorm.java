package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;

/** torch.nn.LayerNorm over the last axis. */
public record LayerNorm(NDArray weight, NDArray bias, float eps) {

    public static LayerNorm load(Weights w, int channels, double eps) {
        return new LayerNorm(w.get("weight", channels), w.get("bias", channels), (float) eps);
    }

    public NDArray forward(NDArray x) {
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(weight.getShape().get(0)), weight, bias, eps)
                .singletonOrThrow();
    }
}
