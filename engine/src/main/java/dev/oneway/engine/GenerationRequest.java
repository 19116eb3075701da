package dev.oneway.engine;

import java.util.Objects;

/**
 * One image to make. Requests that share width, height, steps, sampler and decoder can run in one batch;
 * each request's noise comes from its own seed, so its image does not depend on its batch mates.
 */
public record GenerationRequest(String prompt, long seed, int width, int height, int steps, Sampler sampler,
                                Decoder decoder) {

    /** Decoded with the model's full VAE. */
    public GenerationRequest(String prompt, long seed, int width, int height, int steps, Sampler sampler) {
        this(prompt, seed, width, height, steps, sampler, Decoder.VAE);
    }

    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(decoder, "decoder");
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("width and height must be positive, got " + width + "x" + height);
        }
        if (steps <= 0) {
            throw new IllegalArgumentException("steps must be positive, got " + steps);
        }
    }

    /** The key under which requests may share a batch. */
    public BatchShape shape() {
        return new BatchShape(width, height, steps, sampler, decoder);
    }

    /** What requests must share to run in one batch. */
    public record BatchShape(int width, int height, int steps, Sampler sampler, Decoder decoder) { }
}
