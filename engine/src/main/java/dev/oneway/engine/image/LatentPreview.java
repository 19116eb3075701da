package dev.oneway.engine.image;

/**
 * A cheap preview of a latent: each latent pixel becomes one RGB pixel through a fixed linear map, with no network
 * pass, then the image is shrunk by an integer factor (box average) until no side exceeds {@link #MAX_SIDE}.
 *
 * <p>The map is the widely used Stable Diffusion 1.x/2.x latent-to-RGB approximation (ComfyUI's
 * {@code comfy/latent_formats.py}, class SD15, {@code latent_rgb_factors}), which applies to latents in the UNet's
 * space (before dividing by the VAE's scaling factor) and gives RGB in [-1, 1]. SD2.1 shares SD1.5's VAE.
 */
public final class LatentPreview {
    private LatentPreview() { }

    /** Longest side of a preview, in pixels. */
    public static final int MAX_SIDE = 128;

    /** Row c is latent channel c's contribution to R, G and B. */
    private static final float[][] LATENT_RGB = {
            {0.3512f, 0.2297f, 0.3227f},
            {0.3250f, 0.4974f, 0.2350f},
            {-0.2829f, 0.1762f, 0.2721f},
            {-0.2120f, -0.2616f, -0.7177f},
    };

    /** A preview image: PNG bytes and its size. */
    public record Image(byte[] png, int width, int height) { }

    /** Whether latents with this many channels have a preview map. */
    public static boolean supports(int channels) {
        return channels == LATENT_RGB.length;
    }

    /**
     * @param latent one image's latent, channel-major [channels, height, width], from {@code offset}
     */
    public static Image of(float[] latent, int offset, int channels, int height, int width) {
        if (!supports(channels)) {
            throw new IllegalArgumentException("no latent-to-RGB map for " + channels + " latent channels");
        }
        int shrink = Math.max(1, (Math.max(height, width) + MAX_SIDE - 1) / MAX_SIDE);
        int outH = Math.max(1, height / shrink);
        int outW = Math.max(1, width / shrink);
        int plane = height * width;
        int outPlane = outH * outW;
        float[] rgb = new float[3 * outPlane];
        float weight = 1f / (shrink * shrink);
        for (int y = 0; y < outH * shrink; y++) {
            for (int x = 0; x < outW * shrink; x++) {
                int at = offset + y * width + x;
                int out = (y / shrink) * outW + x / shrink;
                for (int c = 0; c < channels; c++) {
                    float v = latent[at + c * plane] * weight;
                    rgb[out] += v * LATENT_RGB[c][0];
                    rgb[out + outPlane] += v * LATENT_RGB[c][1];
                    rgb[out + 2 * outPlane] += v * LATENT_RGB[c][2];
                }
            }
        }
        return new Image(PngEncoder.encode(rgb, 0, outW, outH), outW, outH);
    }
}
