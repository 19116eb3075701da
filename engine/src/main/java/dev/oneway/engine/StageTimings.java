package dev.oneway.engine;

/**
 * Milliseconds spent per stage for one batch. For the TiUE sampler, encoderMs is the single encoder
 * pass and decoderMs the single K x B decoder pass; for the looped sampler, encoderMs + decoderMs
 * cover the K full UNet passes (the split is measured per pass). schedulerMs is the DDIM arithmetic.
 */
public record StageTimings(double textMs, double encoderMs, double decoderMs, double schedulerMs, double vaeMs,
                           double pngMs, double totalMs) {

    /** Time spent denoising (UNet passes plus DDIM arithmetic). */
    public double denoiseMs() {
        return encoderMs + decoderMs + schedulerMs;
    }
}
