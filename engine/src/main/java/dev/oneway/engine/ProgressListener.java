package dev.oneway.engine;

/** Told as a batch moves through the stages; called on the thread that runs the batch. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (stage, done, total) -> { };

    /**
     * @param stage one of "text", "encoder", "decoder", "vae"
     * @param done stages finished so far, including this one
     * @param total stages in this batch
     */
    void stageFinished(String stage, int done, int total);
}
