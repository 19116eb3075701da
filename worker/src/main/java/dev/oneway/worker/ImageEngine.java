package dev.oneway.worker;

import dev.oneway.engine.GeneratedImage;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.TiueEngine;
import java.util.List;

/**
 * What the worker needs from an engine. The TiUE engine is the one implementation in production; the
 * seam lets fault tests wrap it to make one chosen job fail, which a healthy model never does on demand.
 */
public interface ImageEngine {

    ModelDefaults defaults();

    /** Blocking; runs one batch of requests sharing a shape and returns images in request order. */
    List<GeneratedImage> generate(List<GenerationRequest> batch, ProgressListener progress);

    static ImageEngine of(TiueEngine engine) {
        return new ImageEngine() {
            @Override
            public ModelDefaults defaults() {
                return engine.defaults();
            }

            @Override
            public List<GeneratedImage> generate(List<GenerationRequest> batch, ProgressListener progress) {
                return engine.generate(batch, progress);
            }
        };
    }
}
