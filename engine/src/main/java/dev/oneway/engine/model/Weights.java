package dev.oneway.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * Named tensors of one model part, addressed the way the checkpoint names them. Modules walk down with
 * {@link #at} ("down_blocks" -> "0" -> "resnets" ...) and ask for a tensor with the shape their config
 * implies; a missing tensor or a wrong shape fails right there, naming file, key and expectation.
 */
public final class Weights {

    /** Where tensors come from: a safetensors file, or a random generator that records what was asked. */
    public interface Source {
        NDArray tensor(String key, long[] expectedShape);

        boolean contains(String key);
    }

    private final Source source;
    private final String prefix;
    private final boolean batchInvariant;
    private final boolean bfloat16;

    public Weights(Source source) {
        this(source, "", false, false);
    }

    /**
     * @param batchInvariant build modules whose per-image results do not depend on the batch they run in
     *     (see {@link dev.oneway.engine.nn.Conv2d})
     */
    public Weights(Source source, boolean batchInvariant) {
        this(source, "", batchInvariant, false);
    }

    /**
     * @param bfloat16 build convolutions and linear layers that compute in bfloat16 on the CPU (see
     *     {@link dev.oneway.engine.EngineOptions})
     */
    public Weights(Source source, boolean batchInvariant, boolean bfloat16) {
        this(source, "", batchInvariant, bfloat16);
    }

    private Weights(Source source, String prefix, boolean batchInvariant, boolean bfloat16) {
        this.source = source;
        this.prefix = prefix;
        this.batchInvariant = batchInvariant;
        this.bfloat16 = bfloat16;
    }

    public Weights at(String name) {
        return new Weights(source, prefix + name + ".", batchInvariant, bfloat16);
    }

    public boolean bfloat16() {
        return bfloat16;
    }

    public boolean batchInvariant() {
        return batchInvariant;
    }

    public Weights at(int index) {
        return at(Integer.toString(index));
    }

    public NDArray get(String name, long... shape) {
        return source.tensor(prefix + name, shape);
    }

    public boolean contains(String name) {
        return source.contains(prefix + name);
    }
}
