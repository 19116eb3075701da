package dev.oneway.engine.nn;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.model.Weights;

/** torch.nn.GroupNorm on [N, C, ...], libtorch's own kernel ({@link TorchOps}). */
public final class GroupNorm {

    private final int groups;
    private final NDArray weight;
    private final NDArray bias;
    private final float eps;

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
        return TorchOps.groupNorm(x, groups, weight, bias, eps, false);
    }

    /** silu(forward(x)) in one call. */
    public NDArray forwardSilu(NDArray x) {
        return TorchOps.groupNorm(x, groups, weight, bias, eps, true);
    }
}
