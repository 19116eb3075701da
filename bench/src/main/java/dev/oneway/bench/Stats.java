package dev.oneway.bench;

import java.util.Arrays;
import java.util.Collection;

/** Medians and percentiles (nearest rank) of measured samples. */
public final class Stats {
    private Stats() { }

    public static double median(double... values) {
        return percentile(values, 50);
    }

    public static double median(Collection<Double> values) {
        return median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Nearest-rank percentile: the smallest sample with at least p% of the samples at or below it. */
    public static double percentile(double[] values, double p) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }

    public static double percentile(Collection<Double> values, double p) {
        return percentile(values.stream().mapToDouble(Double::doubleValue).toArray(), p);
    }
}
