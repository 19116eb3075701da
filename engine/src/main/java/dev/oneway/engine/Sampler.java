package dev.oneway.engine;

import java.util.Locale;

/** How the K denoising steps are run over one set of UNet blocks. */
public enum Sampler {
    /** TiUE: the UNet encoder runs once at t_0, the decoder once for all K timesteps, then loop-free DDIM. */
    TIUE,
    /** Classic DDIM: the full UNet runs K times, each on the updated latent. */
    LOOPED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Sampler fromWireName(String name) {
        for (Sampler s : values()) {
            if (s.wireName().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown sampler '" + name + "': expected one of tiue, looped");
    }
}
