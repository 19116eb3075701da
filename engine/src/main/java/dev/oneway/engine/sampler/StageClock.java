package dev.oneway.engine.sampler;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.image.LatentPreview;

/** Adds up milliseconds per denoising stage and reports each finished stage, and each step's previews where wanted. */
public final class StageClock {
    double encoderMs;
    double decoderMs;
    double schedulerMs;
    private final ProgressListener progress;
    private final int totalStages;
    private int doneStages;
    private long mark = System.nanoTime();

    public StageClock(ProgressListener progress, int totalStages, int alreadyDone) {
        this.progress = progress;
        this.totalStages = totalStages;
        this.doneStages = alreadyDone;
    }

    /** Milliseconds since the last lap. */
    double lap() {
        long now = System.nanoTime();
        double ms = (now - mark) / 1e6;
        mark = now;
        return ms;
    }

    void finished(String stage) {
        progress.stageFinished(stage, ++doneStages, totalStages);
    }

    /**
     * Tells the listener each wanted row's preview of step {@code step}'s predicted x0 [B, C, h, w]. Costs nothing
     * when no row wants one; otherwise one copy of x0 to the host and a linear map per wanted row.
     */
    void preview(int step, int steps, NDArray predictedX0) {
        Shape shape = predictedX0.getShape();
        int batch = (int) shape.get(0);
        int channels = (int) shape.get(1);
        boolean any = false;
        for (int row = 0; row < batch && !any; row++) {
            any = progress.wantsPreview(row);
        }
        if (!any || !LatentPreview.supports(channels)) {
            return;
        }
        int height = (int) shape.get(2);
        int width = (int) shape.get(3);
        float[] x0 = predictedX0.toType(DataType.FLOAT32, false).toFloatArray();
        int perRow = channels * height * width;
        for (int row = 0; row < batch; row++) {
            if (progress.wantsPreview(row)) {
                progress.preview(row, step, steps, LatentPreview.of(x0, row * perRow, channels, height, width));
            }
        }
    }

    public double encoderMs() {
        return encoderMs;
    }

    public double decoderMs() {
        return decoderMs;
    }

    public double schedulerMs() {
        return schedulerMs;
    }
}
