package dev.oneway.engine.scheduler;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.ModelException;
import dev.oneway.engine.model.ModelConfig;

/**
 * diffusers' DDIMScheduler with eta = 0, read from scheduler/scheduler_config.json. Pure arithmetic on
 * the latents: the loop-free sampler calls {@link #step} K times with noise predictions it already has.
 */
public final class DdimScheduler {

    private final int trainTimesteps;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;
    private final String spacing;
    private final int stepsOffset;
    private final String predictionType;
    private final boolean clipSample;
    private final float clipSampleRange;

    public DdimScheduler(int trainTimesteps, float[] betas, boolean setAlphaToOne, String spacing, int stepsOffset,
                         String predictionType, boolean clipSample, float clipSampleRange) {
        this.trainTimesteps = trainTimesteps;
        this.alphasCumprod = new float[trainTimesteps];
        float product = 1f;
        for (int i = 0; i < trainTimesteps; i++) {
            product *= 1f - betas[i];
            alphasCumprod[i] = product;
        }
        this.finalAlphaCumprod = setAlphaToOne ? 1f : alphasCumprod[0];
        this.spacing = spacing;
        this.stepsOffset = stepsOffset;
        this.predictionType = predictionType;
        this.clipSample = clipSample;
        this.clipSampleRange = clipSampleRange;
    }

    public static DdimScheduler read(ModelConfig c) {
        int t = c.getInt("num_train_timesteps", 1000);
        double start = c.getDouble("beta_start", 0.0001);
        double end = c.getDouble("beta_end", 0.02);
        String schedule = c.getChoice("beta_schedule", "linear", "linear", "scaled_linear");
        c.requireDefault("trained_betas", "null");
        c.requireDefault("thresholding", false);
        c.requireDefault("rescale_betas_zero_snr", false);
        float[] betas = new float[t];
        for (int i = 0; i < t; i++) {
            double frac = t == 1 ? 0 : (double) i / (t - 1);
            betas[i] = schedule.equals("linear")
                    ? (float) (start + frac * (end - start))
                    : (float) Math.pow(Math.sqrt(start) + frac * (Math.sqrt(end) - Math.sqrt(start)), 2);
        }
        return new DdimScheduler(t, betas,
                c.getBoolean("set_alpha_to_one", true),
                c.getChoice("timestep_spacing", "leading", "leading", "trailing", "linspace"),
                c.getInt("steps_offset", 0),
                c.getChoice("prediction_type", "epsilon", "epsilon", "v_prediction", "sample"),
                c.getBoolean("clip_sample", true),
                (float) c.getDouble("clip_sample_range", 1.0));
    }

    /** The K timesteps, noisiest first (K = 4, leading, steps_offset 1: 751, 501, 251, 1). */
    public int[] timesteps(int steps) {
        if (steps < 1 || steps > trainTimesteps) {
            throw new IllegalArgumentException("steps must be between 1 and " + trainTimesteps + ", got " + steps);
        }
        int[] out = new int[steps];
        switch (spacing) {
            case "leading" -> {
                int ratio = trainTimesteps / steps;
                for (int i = 0; i < steps; i++) {
                    out[i] = (steps - 1 - i) * ratio + stepsOffset;
                }
            }
            case "trailing" -> {
                double ratio = (double) trainTimesteps / steps;
                for (int i = 0; i < steps; i++) {
                    out[i] = (int) Math.rint(trainTimesteps - i * ratio) - 1;
                }
            }
            case "linspace" -> {
                for (int i = 0; i < steps; i++) {
                    double v = steps == 1 ? 0 : (double) (steps - 1 - i) * (trainTimesteps - 1) / (steps - 1);
                    out[i] = (int) Math.rint(v);
                }
            }
            default -> throw new ModelException("scheduler_config.json: timestep_spacing " + spacing + " is not supported");
        }
        return out;
    }

    /** num_train_timesteps: the most steps a schedule can have. */
    public int trainTimesteps() {
        return trainTimesteps;
    }

    public float alphaCumprod(int timestep) {
        return alphasCumprod[timestep];
    }

    /** alpha_bar of the step after {@code timestep} in a K-step schedule (final_alpha_cumprod past the end). */
    public float alphaCumprodPrev(int timestep, int steps) {
        int prev = timestep - trainTimesteps / steps;
        return prev >= 0 ? alphasCumprod[prev] : finalAlphaCumprod;
    }

    /** A DDIM update's result: the latent at the previous timestep, and the x0 this step predicted on the way. */
    public record Step(NDArray previous, NDArray predictedX0) { }

    /**
     * One DDIM update (eta 0): from the latent {@code sample} at {@code timestep} and the model output,
     * predict x0 and the noise, and move to the previous timestep.
     */
    public NDArray step(NDArray modelOutput, int timestep, int steps, NDArray sample) {
        return stepWithPrediction(modelOutput, timestep, steps, sample).previous();
    }

    /** {@link #step}, keeping the predicted x0 (for previews). */
    public Step stepWithPrediction(NDArray modelOutput, int timestep, int steps, NDArray sample) {
        float a = alphaCumprod(timestep);
        float aPrev = alphaCumprodPrev(timestep, steps);
        float sqrtA = (float) Math.sqrt(a);
        float sqrtOneMinusA = (float) Math.sqrt(1 - a);
        NDArray x0;
        NDArray eps;
        switch (predictionType) {
            case "epsilon" -> {
                x0 = sample.sub(modelOutput.mul(sqrtOneMinusA)).div(sqrtA);
                eps = modelOutput;
            }
            case "v_prediction" -> {
                x0 = sample.mul(sqrtA).sub(modelOutput.mul(sqrtOneMinusA));
                eps = modelOutput.mul(sqrtA).add(sample.mul(sqrtOneMinusA));
            }
            default -> {
                x0 = modelOutput;
                eps = sample.sub(modelOutput.mul(sqrtA)).div(sqrtOneMinusA);
            }
        }
        if (clipSample) {
            x0 = x0.clip(-clipSampleRange, clipSampleRange);
        }
        return new Step(x0.mul((float) Math.sqrt(aPrev)).add(eps.mul((float) Math.sqrt(1 - aPrev))), x0);
    }
}
