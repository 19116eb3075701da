package dev.oneway.standalone;

import dev.oneway.engine.GeneratedImage;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.ProgressListener;
import dev.oneway.worker.ImageEngine;
import java.util.List;
import java.util.function.Consumer;

/** Engines for fault tests: the real one, with a look at each batch first. */
final class Engines {
    private Engines() { }

    /**
     * {@code real}, except that each batch is first shown to {@code look}, which may throw (the batch then fails as
     * a broken model's would) or end the process (as the OOM killer would).
     */
    static ImageEngine beforeEachBatch(ImageEngine real, Consumer<List<GenerationRequest>> look) {
        return new ImageEngine() {
            @Override
            public ModelDefaults defaults() {
                return real.defaults();
            }

            @Override
            public List<String> decoders() {
                return real.decoders();
            }

            @Override
            public boolean onGpu() {
                return real.onGpu();
            }

            @Override
            public List<GeneratedImage> generate(List<GenerationRequest> batch, ProgressListener progress) {
                look.accept(batch);
                return real.generate(batch, progress);
            }
        };
    }
}
