package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;

/**
 * torch.nn.GroupNorm on [N, C, ...]. DJL has no native group norm, so each group is flattened and
 * normalized with layer norm (unit scale, zero shift), then the per-channel affine is applied.
 */
public record GroupNorm(int groups, NDArray weight, NDArray bias, float eps) {

    public static GroupNorm load(Weights w, int groups, int channels, double eps) {
        return new GroupNorm(groups, w.get("weight", channels), w.get("bias", channels), (float) eps);
    }

    public NDArray forward(NDArray x) {
        Shape shape = x.getShape();
        long n = shape.get(0);
        long c = shape.get(1);
        NDArray grouped = x.reshape(n, groups, -1);
        long groupSize = grouped.getShape().get(2);
        NDManager m = x.getManager();
        NDArray ones = m.ones(new Shape(groupSize), x.getDataType());
        NDArray zeros = m.zeros(new Shape(groupSize), x.getDataType());
        NDArray normalized = ai.djl.nn.norm.LayerNorm.layerNorm(grouped, new Shape(groupSize), ones, zeros, eps)
                .singletonOrThrow();
        long[] affineShape = new long[shape.dimension()];
        java.util.Arrays.fill(affineShape, 1);
        affineShape[1] = c;
        return normalized.reshape(shape).muli(weight.reshape(affineShape)).addi(bias.reshape(affineShape));
    }
}
