package dev.oneway.engine;

/** A finished image: PNG bytes plus where the batch spent its time. */
public record GeneratedImage(GenerationRequest request, byte[] png, int batchSize, StageTimings timings) { }
