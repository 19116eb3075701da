package dev.oneway.engine;

import dev.oneway.engine.image.LatentPreview;

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

    /**
     * Whether request {@code row} of the batch wants a preview of each sampler step. By default none does, and no
     * preview is computed; a batch computes previews only for the rows that want them.
     */
    default boolean wantsPreview(int row) {
        return false;
    }

    /** Request {@code row}'s preview after sampler step {@code step} (1 to {@code steps}): that step's predicted x0. */
    default void preview(int row, int step, int steps, LatentPreview.Image image) { }
}
