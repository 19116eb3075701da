package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * torch.nn.GroupNorm on [N, C, ...]. DJL has no native group norm, so each group is flattened and
 * normalized with layer norm (unit scale, zero shift), then the per-channel affine is applied.
 */
public final class GroupNorm {

    private final int groups;
    private final NDArray weight;
    private final NDArray bias;
    private final float eps;
    /** Layer norm's unit scale and zero shift by group size and dtype. */
    private final Map<String, NDArray[]> unitAffine = new ConcurrentHashMap<>();

    public GroupNorm(int groups, NDArray weight, NDArray bias, float eps) {
        this.groups = groups;
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
    }

    public static GroupNorm load(Weights w, int groups, int channels, double eps) {
        return new GroupNorm(groups, w.get("weight", channels), w.get("bias", channels), (float) eps);
    }

    public NDArray forward(NDArray x) {
        Shape shape = x.getShape();
        long n = shape.get(0);
        long c = shape.get(1);
        NDArray grouped = x.reshape(n, groups, -1);
        long groupSize = grouped.getShape().get(2);
        NDArray[] unit = unitAffine(groupSize, x.getDataType());
        NDArray normalized = ai.djl.nn.norm.LayerNorm.layerNorm(grouped, new Shape(groupSize), unit[0], unit[1], eps)
                .singletonOrThrow();
        long[] affineShape = new long[shape.dimension()];
        java.util.Arrays.fill(affineShape, 1);
        affineShape[1] = c;
        return normalized.reshape(shape).muli(weight.reshape(affineShape)).addi(bias.reshape(affineShape));
    }

    /**
     * Layer norm's unit scale and zero shift for one group size, made once and kept with the weights (one
     * pair per feature-map size the block sees) instead of two fresh arrays per call.
     */
    private NDArray[] unitAffine(long groupSize, DataType dtype) {
        return unitAffine.computeIfAbsent(groupSize + "/" + dtype, key -> {
            NDArray ones = weight.getManager().ones(new Shape(groupSize), dtype);
            NDArray zeros = weight.getManager().zeros(new Shape(groupSize), dtype);
            // made inside a caller's scope, but they live as long as the weights
            NDScope.unregister(ones, zeros);
            return new NDArray[] {ones, zeros};
        });
    }
}
