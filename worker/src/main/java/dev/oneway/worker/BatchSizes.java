package dev.oneway.worker;

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
        return new BatchSizes() {
            @Override
            public int target(String key) {
                return max;
            }

            @Override
            public int take(String key, int available) {
                return Math.min(max, available);
            }
        };
    }
}
