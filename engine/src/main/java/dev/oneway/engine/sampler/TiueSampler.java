package dev.oneway.engine.sampler;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.oneway.engine.nn.Ops;
import dev.oneway.engine.scheduler.DdimScheduler;
import dev.oneway.engine.unet.TimeCondition;
import dev.oneway.engine.unet.UNet2DConditionModel;
import dev.oneway.engine.unet.UNet2DConditionModel.EncoderFeatures;

/**
 * TiUE (Loopfree): the UNet encoder runs ONCE at t_0; the decoder runs ONCE over K x B rows (each job's
 * features for each of the K timesteps); then DDIM applies the K noise predictions in order. The loop
 * at the end is arithmetic only - no network call.
 */
public final class TiueSampler implements LatentSampler {

    private final UNet2DConditionModel unet;
    private final DdimScheduler scheduler;

    public TiueSampler(UNet2DConditionModel unet, DdimScheduler scheduler) {
        this.unet = unet;
        this.scheduler = scheduler;
    }

    @Override
    public NDArray sample(NDArray noise, NDArray text, int steps, StageClock clock) {
        int batch = (int) noise.getShape().get(0);
        int[] timesteps = scheduler.timesteps(steps);
        clock.lap();

        TimeCondition encoderTemb = unet.timeCondition(noise.getManager(), new int[] {timesteps[0]}, batch, noise.getDataType());
        EncoderFeatures features = unet.encode(noise, encoderTemb, text);
        clock.encoderMs += clock.lap();
        clock.finished("encoder");

        // step-major rows: k * B + i is job i at timestep k
        TimeCondition decoderTemb = unet.timeCondition(noise.getManager(), timesteps, batch, noise.getDataType());
        NDArray noisePredictions = unet.decode(features.repeat(steps), decoderTemb, Ops.repeatBatch(text, steps));
        clock.decoderMs += clock.lap();
        clock.finished("decoder");

        NDArray latents = noise;
        for (int k = 0; k < steps; k++) {
            NDArray eps = noisePredictions.get(new NDIndex("{}:{}", k * batch, (k + 1) * batch));
            DdimScheduler.Step step = scheduler.stepWithPrediction(eps, timesteps[k], steps, latents);
            clock.preview(k + 1, steps, step.predictedX0());
            latents = step.previous();
        }
        clock.schedulerMs += clock.lap();
        return latents;
    }

    @Override
    public int stages(int steps) {
        return 2;
    }

}
