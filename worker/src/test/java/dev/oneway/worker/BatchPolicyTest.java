package dev.oneway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * The policy's rule with the engine's cost given as a function of the batch size (the worker test runs it against
 * an engine that really takes that time). A saturated worker always has jobs waiting, so it forms the target size.
 */
class BatchPolicyTest {

    private static final String SHAPE = "256x256/4/tiue";

    /** Runs {@code batches} saturated batches; returns the sizes formed. */
    private static List<Integer> saturated(BatchPolicy policy, int batches, IntToDoubleFunction msPerImage) {
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            int n = policy.target(SHAPE);
            sizes.add(n);
            policy.measured(SHAPE, n, n * msPerImage.applyAsDouble(n));
        }
        return sizes;
    }

    private static long countOf(List<Integer> sizes, int size) {
        return sizes.stream().filter(s -> s == size).count();
    }

    @Test
    void whenAnImageCostsMoreInALargerBatchTheWorkerFormsBatchesOfOne() {
        BatchPolicy policy = new BatchPolicy(8, new WorkerMetrics());
        List<Integer> sizes = saturated(policy, 200, n -> 10_000 * (1 + 0.1 * (n - 1))); // the real-size CPU case
        assertEquals(List.of(1, 1, 2, 2, 1), sizes.subList(0, 5), "starts alone, tries 2 (twice: the first pays its warm-up), finds it slower");
        assertEquals(1, policy.chosen(SHAPE));
        assertTrue(sizes.stream().allMatch(s -> s <= 2), "never climbs past a slower size: " + sizes);
        assertTrue(countOf(sizes, 2) <= 6, "batch 2 is only re-measured, ever more rarely: " + sizes);
    }

    private static String keyOf(int side) {
        return new dev.oneway.common.JobRequest("id", "t", "p", 1, side, side, 4, "tiue", java.time.Instant.now()).batchKey();
    }

    @Test
    void aPixelLimitCapsTheBatchesOfLargeImagesOnly() {
        java.util.function.ToIntFunction<String> largest = BatchSizes.largest(8, 1024L * 1024);
        assertEquals(1, largest.applyAsInt(keyOf(1024)));
        assertEquals(4, largest.applyAsInt(keyOf(512)));
        assertEquals(8, largest.applyAsInt(keyOf(64)), "ONEWAY_MAX_BATCH_SIZE still applies");
        assertEquals(1, largest.applyAsInt(keyOf(2048)), "an image over the limit runs alone");
        assertEquals(8, BatchSizes.largest(8, 0).applyAsInt(keyOf(2048)), "0: no limit");

        BatchPolicy policy = new BatchPolicy(8, largest, new WorkerMetrics());
        List<Integer> mid = new ArrayList<>();
        List<Integer> big = new ArrayList<>();
        for (int i = 0; i < 40; i++) { // an image costs less the larger its batch: the policy climbs, up to the limit
            int n = policy.target(keyOf(512));
            mid.add(n);
            policy.measured(keyOf(512), n, n * 1000.0 / n);
            int m = policy.target(keyOf(1024));
            big.add(m);
            policy.measured(keyOf(1024), m, m * 4000.0 / m);
        }
        assertEquals(4, policy.chosen(keyOf(512)), "climbed to the limit: " + mid);
        assertTrue(mid.stream().allMatch(n -> n <= 4), "never past the limit: " + mid);
        assertTrue(big.stream().allMatch(n -> n == 1), "1024x1024 alone: " + big);
        assertEquals(4, policy.take(keyOf(512), 7));

        BatchSizes fixed = BatchSizes.fixed(largest);
        assertEquals(1, fixed.target(keyOf(1024)));
        assertEquals(4, fixed.take(keyOf(512), 7));
        assertEquals(3, fixed.take(keyOf(512), 3));
    }

    @Test
    void whenAnImageCostsLessInALargerBatchTheWorkerClimbsToTheMaximum() {
        BatchPolicy policy = new BatchPolicy(8, new WorkerMetrics());
        List<Integer> sizes = saturated(policy, 100, n -> 100 + 400.0 / n); // a GPU: fixed cost shared by the batch
        assertEquals(List.of(1, 1, 2, 2, 4, 4, 8, 8, 8), sizes.subList(0, 9), "each size formed twice before it is judged");
        assertEquals(8, policy.chosen(SHAPE));
        assertTrue(countOf(sizes, 8) >= 90, sizes.toString());
    }

    @Test
    void theBestSizeCanLieInBetween() {
        BatchPolicy policy = new BatchPolicy(16, new WorkerMetrics());
        // Cheaper up to 4 (shared overhead), dearer beyond (the batch falls out of the cache).
        saturated(policy, 60, n -> 100 + 400.0 / n + (n > 4 ? 40 * (n - 4) : 0));
        assertEquals(4, policy.chosen(SHAPE));
    }

    @Test
    void aGroupThatMustGoEarlyTakesTheCheapestCountThatWaits() {
        BatchPolicy policy = new BatchPolicy(8, new WorkerMetrics());
        saturated(policy, 20, n -> 100 + 400.0 / n);
        assertEquals(8, policy.target(SHAPE));
        assertEquals(3, policy.take(SHAPE, 3), "3 of 3 waiting: between 2 and 4, both cheaper than 1");

        BatchPolicy cpu = new BatchPolicy(8, new WorkerMetrics());
        saturated(cpu, 20, n -> 10_000 + 1000.0 * n);
        assertEquals(1, cpu.take(SHAPE, 5), "5 waiting, yet one at a time is cheaper per image");
    }

    @Test
    void theFirstBatchOfASizePaysItsWarmUpAndIsNotHeldAgainstIt() {
        BatchPolicy policy = new BatchPolicy(4, new WorkerMetrics());
        policy.measured(SHAPE, 1, 5_000); // the first batch of all: the engine's warm-up
        policy.measured(SHAPE, 1, 100);
        assertEquals(100, policy.secondsPerImage(SHAPE, 1) * 1000, 1e-9, "the second measurement replaces the first");
        policy.measured(SHAPE, 1, 200);
        assertEquals(100 + BatchPolicy.WEIGHT * 100, policy.secondsPerImage(SHAPE, 1) * 1000, 1e-9, "then a running mean");
    }

    @Test
    void aSizeIsJudgedOnItsSecondBatchNotOnTheWarmUpOfItsFirst() {
        BatchPolicy policy = new BatchPolicy(8, new WorkerMetrics());
        java.util.Set<Integer> formed = new java.util.HashSet<>();
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            int n = policy.target(SHAPE);
            sizes.add(n);
            double perImage = 100 + 400.0 / n; // batches pay...
            policy.measured(SHAPE, n, n * perImage * (formed.add(n) ? 3 : 1)); // ...but a size's first batch costs 3x
        }
        assertEquals(8, policy.chosen(SHAPE), sizes.toString());
        assertEquals(List.of(1, 1, 2, 2, 4, 4, 8, 8), sizes.subList(0, 8));
    }

    @Test
    void aSizeFormedOnceBecauseFewerJobsWaitedDoesNotStopTheClimb() {
        BatchPolicy policy = new BatchPolicy(8, new WorkerMetrics());
        IntToDoubleFunction cost = n -> 100 + 400.0 / n;
        saturated(policy, 4, cost); // 1, 1, 2, 2
        assertEquals(4, policy.target(SHAPE));
        policy.measured(SHAPE, 3, 3 * cost.applyAsDouble(3) * 3); // a group of 3 went early, warm-up and all
        assertEquals(4, policy.target(SHAPE), "3's one batch is not held against the climb");
        saturated(policy, 6, cost);
        assertEquals(8, policy.chosen(SHAPE));
    }

    @Test
    void aMachineThatChangesIsNoticedByTheReMeasurements() {
        BatchPolicy policy = new BatchPolicy(8, new WorkerMetrics());
        saturated(policy, 100, n -> 1000.0 * n);
        assertEquals(1, policy.chosen(SHAPE));
        // Now batches pay (say the other tenants of the machine left and the convolutions batch well).
        saturated(policy, 600, n -> 100 + 1000.0 / n);
        assertEquals(8, policy.chosen(SHAPE));
    }

    @Test
    void itsMeasurementsAndChoiceAreInTheWorkersMetrics() {
        WorkerMetrics metrics = new WorkerMetrics();
        BatchPolicy policy = new BatchPolicy(8, metrics);
        saturated(policy, 3, n -> 2000.0 * n);
        String scrape = metrics.scrape();
        assertTrue(scrape.contains("oneway_batch_policy_image_seconds{shape=\"" + SHAPE + "\",size=\"1\"} 2.0"), scrape);
        assertTrue(scrape.contains("oneway_batch_policy_image_seconds{shape=\"" + SHAPE + "\",size=\"2\"} 4.0"), scrape);
        assertTrue(scrape.contains("oneway_batch_policy_size{shape=\"" + SHAPE + "\"} 1.0"), scrape);
    }
}
