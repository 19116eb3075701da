package dev.oneway.worker;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.StringJoiner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches only where batching pays. For each batch key (size, steps, sampler: one shape of work for the model this
 * worker serves) it keeps the time per image at every batch size it formed, a running mean of a batch's wall time
 * (from the moment the worker took it from its queue to the engine's end: the read barrier and job.started writes
 * before the engine are a cost per batch too) divided by its jobs, and waits for the size with the lowest: the best throughput, within
 * the maximum batch size and the maximum batch wait that bound a job's latency. A GPU ends on large batches; a CPU
 * at real size, where a batch of 4 costs more per image than one job alone, on 1.
 *
 * <p>It learns online, from the batches it forms: a shape starts at 1 and climbs 2, 4, 8 (up to the maximum) while
 * each step is cheaper per image; a group that must go before reaching the target goes with the waiting count that
 * measured (or interpolates) cheapest. Now and then it re-measures the neighbours of its choice, ever more rarely
 * while they stay worse, so a machine whose load changed is noticed. The first batch of a size pays that size's
 * warm-up (oneDNN primitives, allocations: on a 2-core CPU a first batch of 3 at 256x256 cost 10% more per image than
 * later ones), so a size counts from its second batch: the second measurement replaces the first, and a size the
 * policy aimed at is formed twice before it is judged. Judged on first batches, the climb stopped at whichever size
 * happened to be measured first.
 *
 * <p>Thread-safe: the batch loops ask it on their contexts, the batch runner tells it from the engine thread.
 */
final class BatchPolicy implements BatchSizes {

    private static final Logger LOG = LoggerFactory.getLogger(BatchPolicy.class);
    /** Weight of a new measurement in a size's running mean. */
    static final double WEIGHT = 0.3;
    /** Batches between re-measurements of the neighbours, at first and at most (doubling while they lose). */
    static final int FIRST_RECHECK = 8;
    static final int LAST_RECHECK = 256;

    private final int maxBatchSize;
    /** The largest batch of each shape: maxBatchSize, or fewer where ONEWAY_MAX_BATCH_PIXELS says so. */
    private final ToIntFunction<String> largest;
    private final WorkerMetrics metrics;
    private final Map<String, Shape> shapes = new HashMap<>();

    BatchPolicy(int maxBatchSize, WorkerMetrics metrics) {
        this(maxBatchSize, key -> maxBatchSize, metrics);
    }

    /** @param largest per shape, the largest batch to form: from 1 to {@code maxBatchSize} */
    BatchPolicy(int maxBatchSize, ToIntFunction<String> largest, WorkerMetrics metrics) {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("the maximum batch size must be at least 1, got " + maxBatchSize);
        }
        this.maxBatchSize = maxBatchSize;
        this.largest = key -> Math.max(1, Math.min(maxBatchSize, largest.applyAsInt(key)));
        this.metrics = metrics;
    }

    @Override
    public synchronized int target(String key) {
        Shape s = shapes.get(key);
        return s == null ? 1 : s.target(largest.applyAsInt(key));
    }

    @Override
    public synchronized int take(String key, int available) {
        Shape s = shapes.get(key);
        if (s == null || s.best == 0) {
            return 1;
        }
        int max = largest.applyAsInt(key);
        if (s.climb(max) != 0 && available > s.best) {
            return available; // still climbing: every larger size so far was cheaper per image
        }
        int chosen = 0;
        double lowest = Double.POSITIVE_INFINITY;
        for (int n = 1; n <= Math.min(available, max); n++) {
            double ms = s.estimate(n);
            if (ms < lowest) {
                lowest = ms;
                chosen = n;
            }
        }
        return chosen == 0 ? available : chosen;
    }

    @Override
    public synchronized void measured(String key, int size, double ms) {
        if (size < 1 || size > maxBatchSize || !(ms >= 0)) {
            return;
        }
        Shape s = shapes.get(key);
        if (s == null) {
            s = new Shape(maxBatchSize);
            shapes.put(key, s);
            if (metrics != null) {
                metrics.batchPolicyChoice(this, key);
            }
        }
        int max = largest.applyAsInt(key);
        boolean aimedAt = size == s.target(max);
        double perImage = ms / size;
        if (s.samples[size] < 2) {
            s.msPerImage[size] = perImage; // the first sample of a size carries its warm-up: the second replaces it
        } else {
            s.msPerImage[size] += WEIGHT * (perImage - s.msPerImage[size]);
        }
        if (s.samples[size]++ == 0) {
            if (metrics != null) {
                metrics.batchPolicySize(this, key, size);
            }
            if (aimedAt) {
                s.confirm = size; // its first batch carried the warm-up: the next one of this size is the measurement
                return;
            }
        }
        if (s.confirm == size) {
            s.confirm = 0;
        }
        int before = s.best;
        s.best = s.lowest();
        if (s.recheck == size) {
            s.recheck = 0;
            s.recheckEvery = s.best == before ? Math.min(2 * s.recheckEvery, LAST_RECHECK) : FIRST_RECHECK;
            s.batchesToRecheck = s.recheckEvery;
        } else if (s.recheck == 0 && s.climb(max) == 0 && --s.batchesToRecheck <= 0) {
            s.recheck = neighbour(s, max);
            s.batchesToRecheck = s.recheckEvery;
        }
        if (s.best != before) {
            LOG.info("Batch policy for {}: batches of {} ({})", key, s.best, s.table());
        }
    }

    /** The running mean of the engine's seconds per image for batches of {@code size}; NaN while never measured. */
    synchronized double secondsPerImage(String key, int size) {
        Shape s = shapes.get(key);
        return s == null || size < 1 || size > maxBatchSize ? Double.NaN : s.msPerImage[size] / 1000;
    }

    /** The batch size with the best throughput measured so far; 0 while nothing is measured. */
    synchronized int chosen(String key) {
        Shape s = shapes.get(key);
        return s == null ? 0 : s.best;
    }

    /** A size next to the choice, alternately above and below, to measure again; 0 when there is none. */
    private int neighbour(Shape s, int max) {
        int up = Math.min(max, 2 * s.best);
        int down = Math.max(1, s.best / 2);
        s.recheckUp = !s.recheckUp;
        int first = s.recheckUp ? up : down;
        int second = s.recheckUp ? down : up;
        return first != s.best ? first : second != s.best ? second : 0;
    }

    private static final class Shape {
        /** Indexed by batch size; NaN while a size was never measured. */
        final double[] msPerImage;
        final int[] samples;
        /** The cheapest size per image among those measured twice or more; 0 while there is none. */
        int best;
        /** A size the policy aimed at and formed once: it is formed again before it counts. */
        int confirm;
        int recheck;
        int recheckEvery = FIRST_RECHECK;
        int batchesToRecheck = FIRST_RECHECK;
        boolean recheckUp;

        Shape(int maxBatchSize) {
            msPerImage = new double[maxBatchSize + 1];
            java.util.Arrays.fill(msPerImage, Double.NaN);
            samples = new int[maxBatchSize + 1];
        }

        /** The size to form when the jobs are there: a second batch to confirm, a neighbour to re-measure, the next
         *  step of the climb, or the choice. */
        int target(int maxBatchSize) {
            if (confirm != 0) {
                return confirm;
            }
            if (best == 0) {
                return 1;
            }
            if (recheck != 0) {
                return recheck;
            }
            int up = climb(maxBatchSize);
            return up != 0 ? up : best;
        }

        /** The next size up to measure while the largest size measured twice is also the cheapest; 0 when the climb is over. */
        int climb(int maxBatchSize) {
            if (best == 0 || best >= maxBatchSize || largestMeasured() != best) {
                return 0;
            }
            return Math.min(maxBatchSize, 2 * best);
        }

        int lowest() {
            int chosen = 0;
            for (int n = 1; n < msPerImage.length; n++) {
                if (samples[n] > 1 && (chosen == 0 || msPerImage[n] < msPerImage[chosen])) {
                    chosen = n;
                }
            }
            return chosen;
        }

        int largestMeasured() {
            for (int n = msPerImage.length - 1; n >= 1; n--) {
                if (samples[n] > 1) {
                    return n;
                }
            }
            return 0;
        }

        /** Measured, or on the line between the nearest measured sizes below and above; +infinity when unknown. */
        double estimate(int n) {
            if (samples[n] > 0) {
                return msPerImage[n];
            }
            int below = n - 1;
            while (below >= 1 && samples[below] == 0) {
                below--;
            }
            int above = n + 1;
            while (above < msPerImage.length && samples[above] == 0) {
                above++;
            }
            if (below < 1 || above >= msPerImage.length) {
                return Double.POSITIVE_INFINITY;
            }
            double f = (n - below) / (double) (above - below);
            return msPerImage[below] + f * (msPerImage[above] - msPerImage[below]);
        }

        String table() {
            StringJoiner j = new StringJoiner(", ", "ms per image by batch size: ", "");
            for (int n = 1; n < msPerImage.length; n++) {
                if (samples[n] > 0) {
                    j.add(n + ": " + String.format(Locale.ROOT, "%.1f", msPerImage[n]));
                }
            }
            return j.toString();
        }
    }
}
