package dev.oneway.worker;

import dev.oneway.common.ModelAnnouncement;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.Sampler;
import dev.oneway.engine.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model a worker serves: its name in the deployment (ONEWAY_MODELS), its folder and its loaded engine. What it
 * announces about itself comes from the folder and the engine, never from settings.
 */
public record ServedModel(String name, Path dir, ImageEngine engine) {

    /** "sd21" for an SD2.x-style folder (linear projections in the UNet's transformers, OpenCLIP text), else "sd15". */
    public String family() {
        Path unet = dir.resolve("unet").resolve("config.json");
        if (!Files.isRegularFile(unet)) {
            return "unknown";
        }
        return ModelConfig.read(dir, "unet/config.json").getBoolean("use_linear_projection", false) ? "sd21" : "sd15";
    }

    /** The decoders its engine offers: the VAE always, TAESD where {@code vae_tiny/} (or ONEWAY_TAESD_DIR) gave one. */
    public List<String> decoders() {
        return engine.decoders();
    }

    /**
     * What {@code worker} says about this model now, valid for three announcement intervals; {@code maxStepsCap} is
     * the worker's ONEWAY_MAX_STEPS (the model itself allows as many steps as its scheduler has training timesteps).
     */
    public ModelAnnouncement announcement(String worker, Instant now, Duration interval, int maxStepsCap) {
        ModelDefaults d = engine.defaults();
        return new ModelAnnouncement(name, worker, family(), d.width(), d.height(), d.sizeMultiple(), d.maxSide(),
                Math.min(d.steps(), maxStepsCap), Math.min(d.maxSteps(), maxStepsCap), Arrays.stream(Sampler.values()).map(Sampler::wireName).toList(),
                d.sampler().wireName(), decoders(), now, now.plus(interval.multipliedBy(3)));
    }
}
