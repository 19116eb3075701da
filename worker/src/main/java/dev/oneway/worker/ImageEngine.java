package dev.oneway.worker;

import dev.oneway.engine.GeneratedImage;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.TiueEngine;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What the worker needs from an engine. The TiUE engine is the one implementation in production; the
 * seam lets fault tests wrap it to make one chosen job fail, which a healthy model never does on demand.
 */
public interface ImageEngine {

    ModelDefaults defaults();

    /** The decoders a job on this engine may name (wire names): the VAE always, TAESD where the model has one. */
    default List<String> decoders() {
        return List.of(dev.oneway.engine.Decoder.VAE.wireName());
    }

    /** Whether the engine computes on a GPU (else the CPU). */
    default boolean onGpu() {
        return false;
    }

    /** Blocking; runs one batch of requests sharing a shape and returns images in request order. */
    List<GeneratedImage> generate(List<GenerationRequest> batch, ProgressListener progress);

    /** The TiUE engine, guarded so that it is closed only when no batch is inside it (see {@link Guarded#closeWhenIdle}). */
    static Guarded of(TiueEngine engine) {
        return new Guarded(engine);
    }

    /**
     * A TiUE engine that knows whether a batch is inside it. A worker stopped past its grace period hands its batch
     * back while the engine may still be running it; closing the engine's tensors under that batch would crash the
     * process, so the owner closes it only once the batch is out.
     */
    final class Guarded implements ImageEngine {
        private final TiueEngine engine;
        private final ReentrantLock inUse = new ReentrantLock();

        private Guarded(TiueEngine engine) {
            this.engine = engine;
        }

        @Override
        public ModelDefaults defaults() {
            return engine.defaults();
        }

        @Override
        public List<String> decoders() {
            return engine.decoders().stream().map(dev.oneway.engine.Decoder::wireName).toList();
        }

        @Override
        public boolean onGpu() {
            return engine.device().startsWith("gpu");
        }

        @Override
        public List<GeneratedImage> generate(List<GenerationRequest> batch, ProgressListener progress) {
            inUse.lock();
            try {
                return engine.generate(batch, progress);
            } finally {
                inUse.unlock();
            }
        }

        /** Closes the engine at once: only for an engine no batch has reached yet (a failed start). */
        public void closeNow() {
            engine.close();
        }

        /**
         * Closes the engine once no batch is inside it, waiting at most {@code maxWaitMs}; true when closed. When a
         * batch is still running after that, the engine stays open: the process is ending, and its memory with it.
         */
        public boolean closeWhenIdle(long maxWaitMs) throws InterruptedException {
            if (!inUse.tryLock(maxWaitMs, TimeUnit.MILLISECONDS)) {
                return false;
            }
            try {
                engine.close();
                return true;
            } finally {
                inUse.unlock();
            }
        }
    }
}
