package dev.oneway.worker;

import dev.oneway.common.JobRequest;
import java.util.function.ToIntFunction;

/** How many items of one batch key the {@link MicroBatcher} puts in a batch. */
interface BatchSizes {

    /** The batch size to wait for: a group holding this many goes at once. At least 1. */
    int target(String key);

    /**
     * How many of the {@code available} items (fewer than {@link #target}) to take when the group has waited its
     * longest and must go now: from 1 to {@code available}.
     */
    int take(String key, int available);

    /** What a batch of {@code size} items of this key cost: the engine's wall time for it. */
    default void measured(String key, int size, double ms) { }

    /** Always as many as possible, up to {@code max}: batching that never asks whether it pays. */
    static BatchSizes fixed(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("the maximum batch size must be at least 1, got " + max);
        }
        return fixed(key -> max);
    }

    /** The same with a largest size per key (at least 1 each). */
    static BatchSizes fixed(ToIntFunction<String> maxFor) {
        return new BatchSizes() {
            @Override
            public int target(String key) {
                return maxFor.applyAsInt(key);
            }

            @Override
            public int take(String key, int available) {
                return Math.min(maxFor.applyAsInt(key), available);
            }
        };
    }

    /**
     * The largest batch of each key: {@code maxBatchSize}, and no more jobs than fit in {@code maxPixels} (0: no
     * limit), at least 1.
     */
    static ToIntFunction<String> largest(int maxBatchSize, long maxPixels) {
        if (maxPixels <= 0) {
            return key -> maxBatchSize;
        }
        return key -> (int) Math.max(1, Math.min(maxBatchSize, maxPixels / JobRequest.pixelsOfBatchKey(key)));
    }
}
