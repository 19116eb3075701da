package dev.oneway.engine.tiny;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.model.SafetensorsWriter;
import dev.oneway.engine.model.Weights;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Makes up every tensor a model asks for, with values that keep activations in a sane range
 * (norm scales near 1, weights ~ N(0, 1/fan_in)), and remembers them so they can be written to disk.
 * Each tensor's values depend only on the seed and its key, so a generated model is reproducible.
 */
final class RandomSource implements Weights.Source {

    private final NDArray placeholder;
    private final long seed;
    private final Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();

    RandomSource(NDManager manager, long seed) {
        this.placeholder = manager.zeros(new Shape(1));
        this.seed = seed;
    }

    /**
     * Records the tensor and hands the module a one-element placeholder: the modules built over this
     * source only serve to name and size the weights, and real-size models would not fit twice in memory.
     */
    @Override
    public NDArray tensor(String key, long[] shape) {
        tensors.computeIfAbsent(key, k -> new SafetensorsWriter.Tensor(values(k, shape), shape));
        return placeholder;
    }

    @Override
    public boolean contains(String key) {
        // a generated model uses the current key names (e.g. to_q, not the legacy query)
        return !key.endsWith("query.weight");
    }

    Map<String, SafetensorsWriter.Tensor> tensors() {
        return tensors;
    }

    private float[] values(String key, long[] shape) {
        int count = 1;
        for (long d : shape) {
            count *= (int) d;
        }
        SplittableRandom random = new SplittableRandom(seed ^ (key.hashCode() * 0x9E3779B97F4A7C15L));
        float[] v = new float[count];
        boolean isNorm = key.contains("norm") && shape.length == 1;
        boolean isBias = key.endsWith("bias");
        boolean isEmbedding = key.contains("embedding") && shape.length == 2 && !key.contains("linear");
        double fanIn = shape.length >= 2 ? (double) count / shape[0] : 1;
        for (int i = 0; i < count; i++) {
            double g = gaussian(random);
            if (isNorm) {
                v[i] = (float) (isBias ? 0.02 * g : 1 + 0.05 * g);
            } else if (isBias) {
                v[i] = (float) (0.02 * g);
            } else if (isEmbedding) {
                v[i] = (float) (0.5 * g);
            } else {
                v[i] = (float) (g / Math.sqrt(fanIn));
            }
        }
        return v;
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = 1 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
