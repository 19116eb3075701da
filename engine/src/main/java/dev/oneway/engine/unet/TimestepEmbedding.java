package dev.oneway.engine.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.Weights;
import dev.oneway.engine.nn.Linear;
import dev.oneway.engine.nn.Ops;

/**
 * Sinusoidal timestep features (diffusers' Timesteps: flip_sin_to_cos, freq_shift) followed by
 * time_embedding.linear_1, SiLU, linear_2.
 */
public record TimestepEmbedding(int channels, boolean flipSinToCos, int freqShift, Linear linear_1, Linear linear_2) {

    public static TimestepEmbedding load(Weights w, UNetConfig c) {
        int channels = c.blockOutChannels()[0];
        return new TimestepEmbedding(channels, c.flipSinToCos(), c.freqShift(),
                Linear.load(w.at("linear_1"), channels, c.timeEmbedDim()),
                Linear.load(w.at("linear_2"), c.timeEmbedDim(), c.timeEmbedDim()));
    }

    /** One row per entry of {@code timesteps}: [timesteps.length, timeEmbedDim] (before the blocks' SiLU). */
    public NDArray forward(NDManager manager, int[] timesteps, DataType dtype) {
        int half = channels / 2;
        float[] features = new float[timesteps.length * channels];
        for (int row = 0; row < timesteps.length; row++) {
            for (int i = 0; i < half; i++) {
                // computed in float like diffusers (exp of float32 exponents, times the timestep)
                float exponent = (float) (-Math.log(10000.0) * i / (half - freqShift));
                float arg = timesteps[row] * (float) Math.exp(exponent);
                float sin = (float) Math.sin(arg);
                float cos = (float) Math.cos(arg);
                features[row * channels + i] = flipSinToCos ? cos : sin;
                features[row * channels + half + i] = flipSinToCos ? sin : cos;
            }
        }
        NDArray proj = manager.create(features, new Shape(timesteps.length, channels)).toType(dtype, false);
        return linear_2.forward(Ops.silu(linear_1.forward(proj)));
    }
}
