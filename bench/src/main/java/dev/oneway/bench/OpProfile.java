package dev.oneway.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.nn.Conv2d;
import dev.oneway.engine.nn.GroupNorm;
import dev.oneway.engine.nn.LayerNorm;
import dev.oneway.engine.nn.Linear;
import dev.oneway.engine.nn.Ops;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Where a UNet pass spends its time: every op of {@link UNetOps} is run alone through the engine's own
 * nn classes (same shapes, random values) and timed; the sums per kind say what dominates. What the pass
 * takes beyond the sum of its ops is glue: activations, residual additions, concatenations, reshapes.
 */
public final class OpProfile {

    /** Milliseconds and FLOPs per op kind for one pass. */
    public record Result(Map<UNetOps.Kind, Double> ms, Map<UNetOps.Kind, Double> flops, Map<UNetOps.Kind, Integer> count) {
        public double totalMs() {
            return ms.values().stream().mapToDouble(Double::doubleValue).sum();
        }
    }

    private final NDManager manager;
    private final boolean perImageConvolutions;
    private final int repeats;
    private final Map<String, Double> timed = new HashMap<>();

    public OpProfile(NDManager manager, boolean perImageConvolutions, int repeats) {
        this.manager = manager;
        this.perImageConvolutions = perImageConvolutions;
        this.repeats = repeats;
    }

    public Result profile(List<UNetOps.Op> ops) {
        Map<UNetOps.Kind, Double> ms = new EnumMap<>(UNetOps.Kind.class);
        Map<UNetOps.Kind, Double> flops = new EnumMap<>(UNetOps.Kind.class);
        Map<UNetOps.Kind, Integer> count = new EnumMap<>(UNetOps.Kind.class);
        for (UNetOps.Op op : ops) {
            double t = timed.computeIfAbsent(op.key(), k -> time(op));
            ms.merge(op.kind(), t, Double::sum);
            flops.merge(op.kind(), op.flops(), Double::sum);
            count.merge(op.kind(), 1, Integer::sum);
        }
        return new Result(ms, flops, count);
    }

    /** Median milliseconds of one run of the op, inputs made beforehand. */
    private double time(UNetOps.Op op) {
        try (NDManager m = manager.newSubManager()) {
            long[] d = op.dims();
            Supplier<NDArray> run = switch (op.kind()) {
                case CONV -> {
                    int kernel = (int) d[3];
                    int stride = (int) d[4];
                    Conv2d conv = Conv2d.of(m.randomNormal(new Shape(d[2], d[1], kernel, kernel)).muli(0.02f),
                            m.zeros(new Shape(d[2])), stride, stride == 2 ? 1 : kernel / 2, perImageConvolutions);
                    NDArray x = m.randomNormal(new Shape(d[0], d[1], d[5], d[6]));
                    yield () -> conv.forward(x);
                }
                case LINEAR -> {
                    Linear linear = Linear.of(m.randomNormal(new Shape(d[2], d[1])).muli(0.02f), null);
                    NDArray x = m.randomNormal(new Shape(d[0], d[1]));
                    yield () -> linear.forward(x);
                }
                case ATTENTION -> {
                    long c = d[1] * d[4];
                    NDArray q = m.randomNormal(new Shape(d[0], d[2], c));
                    NDArray k = m.randomNormal(new Shape(d[0], d[3], c));
                    NDArray v = m.randomNormal(new Shape(d[0], d[3], c));
                    yield () -> Ops.attention(q, k, v, (int) d[1], null);
                }
                case GROUP_NORM -> {
                    GroupNorm norm = new GroupNorm((int) d[4], m.ones(new Shape(d[1])), m.zeros(new Shape(d[1])), 1e-5f);
                    NDArray x = m.randomNormal(new Shape(d[0], d[1], d[2], d[3]));
                    yield () -> norm.forward(x);
                }
                case LAYER_NORM -> {
                    LayerNorm norm = new LayerNorm(m.ones(new Shape(d[1])), m.zeros(new Shape(d[1])), 1e-5f);
                    NDArray x = m.randomNormal(new Shape(d[0], d[1]));
                    yield () -> norm.forward(x);
                }
            };
            double[] samples = new double[repeats];
            for (int r = -1; r < repeats; r++) {
                long start = System.nanoTime();
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    run.get();
                }
                if (r >= 0) {
                    samples[r] = (System.nanoTime() - start) / 1e6;
                }
            }
            return Stats.median(samples);
        }
    }
}
