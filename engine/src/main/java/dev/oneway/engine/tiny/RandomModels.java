package dev.oneway.engine.tiny;

import java.nio.file.Path;

/**
 * Stable Diffusion 1.5 and 2.1-base at their real sizes (UNet 320/640/1280/1280, CLIP 768x12 or
 * 1024x23, VAE 128/256/512/512) with random weights: for speed and memory figures where no real
 * checkpoint can be downloaded. Written once under the temp dir (several GB).
 */
public final class RandomModels {
    private RandomModels() { }

    public enum Variant { SD15, SD21 }

    static final TinyModels.Architecture SD15 = new TinyModels.Architecture(false, 768, 3072, 12, 12,
            new int[] {320, 640, 1280, 1280}, 2, new int[] {8}, 32, 64, new int[] {128, 256, 512, 512}, 2, 32,
            TinyModels.TAESD_CHANNELS, TinyModels.TAESD_BLOCKS);
    static final TinyModels.Architecture SD21 = new TinyModels.Architecture(true, 1024, 4096, 16, 23,
            new int[] {320, 640, 1280, 1280}, 2, new int[] {5, 10, 20, 20}, 32, 64, new int[] {128, 256, 512, 512}, 2, 32,
            TinyModels.TAESD_CHANNELS, TinyModels.TAESD_BLOCKS);

    public static Path cached(Variant variant) {
        return variant == Variant.SD15
                ? TinyModels.cached("random-sd15", SD15, false)
                : TinyModels.cached("random-sd21", SD21, false);
    }
}
