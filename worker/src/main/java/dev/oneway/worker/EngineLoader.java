package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.engine.EngineOptions;
import dev.oneway.engine.TiueEngine;
import dev.oneway.engine.tiny.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the models a worker serves (ONEWAY_MODELS, or ONEWAY_MODEL_DIR, or the two generated tiny models), with a
 * loud warning when a generated one is among them.
 */
public final class EngineLoader {
    private EngineLoader() { }

    private static final Logger LOG = LoggerFactory.getLogger(EngineLoader.class);
    /** ONEWAY_MODELS source of a generated model: tiny:sd15 or tiny:sd21. */
    private static final String TINY_PREFIX = "tiny:";

    /** Shown wherever Oneway runs without a real model, so nobody mistakes noise for a bug. */
    public static final String NO_MODEL_WARNING = String.join("\n",
            "",
            "*************************************************************************************",
            "*  No model configured: serving the generated TINY models (random weights).          *",
            "*  Every image will be NOISE. The pipeline is real; the weights are not.             *",
            "*                                                                                   *",
            "*  For real images, download a Loopfree model (Loopfree SD1.5 / SD2.1-Base in        *",
            "*  diffusers layout; the authors publish them on the Hugging Face hub):              *",
            "*    huggingface-cli download <loopfree-sd1.5-repo-id> --local-dir models/loopfree   *",
            "*  then start again with  ONEWAY_MODEL_DIR=models/loopfree                           *",
            "*  (or ONEWAY_MODELS=sd15=models/loopfree,sd21=models/loopfree-sd21 for several)     *",
            "*************************************************************************************",
            "");

    /** Whether any model served is a generated one. */
    public static boolean usesTinyModel(OnewayConfig config) {
        return config.models().values().stream().anyMatch(source -> source.startsWith(TINY_PREFIX));
    }

    /** The folder of a model's source: a diffusers folder, or a generated model (tiny:sd15, tiny:sd21) cached on disk. */
    public static Path modelDir(String name, String source) {
        if (source.startsWith(TINY_PREFIX)) {
            String variant = source.substring(TINY_PREFIX.length());
            return switch (variant) {
                case "sd15" -> TinyModels.cached(TinyModels.Variant.SD15);
                case "sd21" -> TinyModels.cached(TinyModels.Variant.SD21);
                default -> throw new IllegalArgumentException(Setting.MODELS.envName() + ": model " + name + " names "
                        + source + "; the generated models are tiny:sd15 and tiny:sd21");
            };
        }
        if (source.isEmpty()) {
            throw new IllegalArgumentException(Setting.MODELS.envName() + ": model " + name
                    + " has no folder; a worker needs name=folder");
        }
        Path dir = Path.of(source);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(Setting.MODELS.envName() + ": the folder " + dir + " of model " + name
                    + " is not a folder");
        }
        return dir;
    }

    /** Device, precision, batch invariance and the TAESD folder, from configuration. */
    public static EngineOptions options(OnewayConfig config) {
        String taesd = config.get(Setting.TAESD_DIR);
        return new EngineOptions(config.get(Setting.DEVICE), config.get(Setting.DTYPE), config.batchInvariant(),
                taesd.isBlank() ? null : Path.of(taesd));
    }

    /**
     * Blocking (reads the weights); call it before deploying, never on an event loop. {@code warn}: log the tiny-model
     * warning (the standalone shows it in its banner instead).
     */
    public static List<LoadedModel> loadAll(OnewayConfig config, boolean warn) {
        if (warn && usesTinyModel(config)) {
            LOG.warn(NO_MODEL_WARNING);
        }
        List<LoadedModel> loaded = new ArrayList<>();
        try {
            for (Map.Entry<String, String> model : config.models().entrySet()) {
                Path dir = modelDir(model.getKey(), model.getValue());
                TiueEngine engine = TiueEngine.load(dir, options(config));
                LOG.info("Loaded model {} from {}", model.getKey(), dir);
                loaded.add(new LoadedModel(model.getKey(), dir, ImageEngine.of(engine)));
            }
        } catch (RuntimeException e) {
            loaded.forEach(m -> m.engine().closeNow());
            throw e;
        }
        return loaded;
    }

    /** A loaded model and the guarded engine that owns its weights (closed by whoever loaded it). */
    public record LoadedModel(String name, Path dir, ImageEngine.Guarded engine) {
        public ServedModel served() {
            return new ServedModel(name, dir, engine);
        }
    }
}
