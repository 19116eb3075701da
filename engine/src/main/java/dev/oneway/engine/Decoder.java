package dev.oneway.engine;

import java.util.Locale;

/** What turns the final latents into pixels. */
public enum Decoder {
    /** The model's own AutoencoderKL (vae/): the full-quality decoder. */
    VAE,
    /** diffusers' AutoencoderTiny (TAESD, vae_tiny/ or a configured folder): a few convolutions, far cheaper. */
    TAESD;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Decoder fromWireName(String name) {
        for (Decoder d : values()) {
            if (d.wireName().equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown decoder '" + name + "': expected one of vae, taesd");
    }
}
