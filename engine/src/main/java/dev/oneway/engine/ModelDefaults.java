package dev.oneway.engine;

/**
 * What a loaded model allows and defaults to: sizes must be multiples of {@code sizeMultiple}
 * (8 x 2^(number of UNet downsamplers)) and at most {@code maxSide}; steps at most {@code maxSteps}.
 */
public record ModelDefaults(String modelName, int width, int height, int steps, Sampler sampler, int sizeMultiple,
                            int maxSide, int maxSteps) {

    /** Null when the request fits the model, else a message saying what is wrong. */
    public String problemWith(int width, int height, int steps) {
        if (width < sizeMultiple || height < sizeMultiple || width % sizeMultiple != 0 || height % sizeMultiple != 0) {
            return "width and height must be positive multiples of " + sizeMultiple + ", got " + width + "x" + height;
        }
        if (width > maxSide || height > maxSide) {
            return "width and height must be at most " + maxSide + ", got " + width + "x" + height;
        }
        if (steps < 1 || steps > maxSteps) {
            return "steps must be between 1 and " + maxSteps + ", got " + steps;
        }
        return null;
    }
}
