package dev.oneway.engine.sampler;

import ai.djl.ndarray.NDArray;

/** Turns starting noise into final latents for a batch that shares its K timesteps. */
public interface LatentSampler {

    /**
     * @param noise z_T [B, 4, h, w]
     * @param text text encoder states [B, L, D]
     */
    NDArray sample(NDArray noise, NDArray text, int steps, StageClock clock);

    /** How many progress stages {@link #sample} reports. */
    int stages(int steps);
}
