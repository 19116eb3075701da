package dev.oneway.engine.sampler;

import ai.djl.ndarray.NDArray;
import dev.oneway.engine.nn.Ops;
import dev.oneway.engine.scheduler.DdimScheduler;
import dev.oneway.engine.unet.TimeCondition;
import dev.oneway.engine.unet.UNet2DConditionModel;

/**
 * Classic K-step DDIM: the full UNet (encoder then decoder) runs on the updated latent at every step.
 * Same blocks as {@link TiueSampler}; kept for comparison and for one-step or few-step students.
 */
public final class LoopedSampler implements LatentSampler {

    private final UNet2DConditionModel unet;
    private final DdimScheduler scheduler;

    public LoopedSampler(UNet2DConditionModel unet, DdimScheduler scheduler) {
        this.unet = unet;
        this.scheduler = scheduler;
    }

    @Override
    public NDArray sample(NDArray noise, NDArray text, int steps, StageClock clock) {
        int batch = (int) noise.getShape().get(0);
        int[] timesteps = scheduler.timesteps(steps);
        NDArray latents = noise;
        clock.lap();
        for (int k = 0; k < steps; k++) {
            int timestep = timesteps[k];
            NDArray current = latents;
            int stepNumber = k + 1;
            // each step's features are dropped as soon as its noise prediction is applied
            latents = Ops.scoped(() -> {
                TimeCondition temb = unet.timeCondition(noise.getManager(), new int[] {timestep}, batch, noise.getDataType());
                UNet2DConditionModel.EncoderFeatures features = unet.encode(current, temb, text);
                clock.encoderMs += clock.lap();
                NDArray eps = unet.decode(features, temb, text);
                clock.decoderMs += clock.lap();
                DdimScheduler.Step step = scheduler.stepWithPrediction(eps, timestep, steps, current);
                clock.preview(stepNumber, steps, step.predictedX0());
                clock.schedulerMs += clock.lap();
                return step.previous();
            });
            clock.finished("step");
        }
        return latents;
    }

    @Override
    public int stages(int steps) {
        return steps;
    }
}
