package dev.oneway.engine.sampler;

import dev.oneway.engine.ProgressListener;

/** Adds up milliseconds per denoising stage and reports each finished stage. */
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
