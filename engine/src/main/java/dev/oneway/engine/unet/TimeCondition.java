package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.nn.Linear;
import dev.oneway.engine.nn.Ops;

/**
 * The time embedding of a batch, kept once per distinct timestep: {@code unique} [U, D] where row u
 * serves {@code rowsEach} consecutive batch rows (the TiUE decoder's step-major K x B layout: U = K;
 * the encoder and the looped sampler: U = 1). Projections run on the U rows and are then expanded, so
 * they cost U rows instead of U x B, and their result does not depend on the batch size.
 */
public record TimeCondition(NDArray unique, int rowsEach) {

    /** The batch's jobs: its rows are step-major, {@code rowsEach} jobs at each of the U timesteps. */
    public int jobs() {
        return rowsEach;
    }

    /** silu(emb) @ proj -> [U * rowsEach, C, 1, 1], ready to add to feature maps. */
    public NDArray project(Linear proj) {
        NDArray projected = proj.forward(Ops.silu(unique));
        Shape s = projected.getShape();
        long u = s.get(0);
        long c = s.get(1);
        return projected.reshape(u, 1, c).broadcast(u, rowsEach, c).reshape(u * rowsEach, c, 1, 1);
    }
}
