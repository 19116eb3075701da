package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.engine.EngineOptions;
import dev.oneway.engine.TiueEngine;
import dev.oneway.engine.tiny.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads the model a worker serves: ONEWAY_MODEL_DIR, or the generated tiny model with a loud warning. */
public final class EngineLoader {
    private EngineLoader() { }

    private static final Logger LOG = LoggerFactory.getLogger(EngineLoader.class);

    /** Shown wherever Oneway runs without a real model, so nobody mistakes noise for a bug. */
    public static final String NO_MODEL_WARNING = String.join("\n",
            "",
            "*************************************************************************************",
            "*  ONEWAY_MODEL_DIR is not set: serving the generated TINY model (random weights).   *",
            "*  Every image will be NOISE. The pipeline is real; the weights are not.             *",
            "*                                                                                   *",
            "*  For real images, download a Loopfree model (Loopfree SD1.5 / SD2.1-Base in        *",
            "*  diffusers layout; the authors publish them on the Hugging Face hub):              *",
            "*    huggingface-cli download <loopfree-sd1.5-repo-id> --local-dir models/loopfree   *",
            "*  then start again with  ONEWAY_MODEL_DIR=models/loopfree                           *",
            "*************************************************************************************",
            "");

    public static boolean usesTinyModel(OnewayConfig config) {
        return config.get(Setting.MODEL_DIR).isEmpty();
    }

    /** The model folder to load: ONEWAY_MODEL_DIR, or the cached tiny SD1.5-style model. */
    public static Path modelDir(OnewayConfig config) {
        if (usesTinyModel(config)) {
            return TinyModels.cached(TinyModels.Variant.SD15);
        }
        Path dir = Path.of(config.get(Setting.MODEL_DIR));
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("ONEWAY_MODEL_DIR=" + dir + " is not a folder");
        }
        return dir;
    }

    /** Device, precision, batch invariance and the TAESD folder, from configuration. */
    public static EngineOptions options(OnewayConfig config) {
        String taesd = config.get(Setting.TAESD_DIR);
        return new EngineOptions(config.get(Setting.DEVICE), config.get(Setting.DTYPE), config.batchInvariant(),
                taesd.isBlank() ? null : Path.of(taesd));
    }

    /** Blocking (reads the weights); call it before deploying, never on an event loop. */
    public static TiueEngine load(OnewayConfig config) {
        if (usesTinyModel(config)) {
            LOG.warn(NO_MODEL_WARNING);
        }
        Path dir = modelDir(config);
        TiueEngine engine = TiueEngine.load(dir, options(config));
        LOG.info("Loaded model {} from {}", engine.defaults().modelName(), dir);
        return engine;
    }
}
