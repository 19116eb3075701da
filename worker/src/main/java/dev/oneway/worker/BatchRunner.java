package dev.oneway.worker;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.engine.Decoder;
import dev.oneway.engine.GeneratedImage;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a batch of compatible jobs through the engine (blocking; call it on the engine executor). When the
 * batch as a whole fails, each job is retried alone, so one bad job fails with its own error and its batch
 * mates still get their images.
 */
final class BatchRunner {

    static final String ENGINE_ERROR = "engine_error";
    private static final Logger LOG = LoggerFactory.getLogger(BatchRunner.class);

    /** Exactly one of image and error is set. */
    record Outcome(JobRequest job, GeneratedImage image, ErrorInfo error) { }

    private final ImageEngine engine;
    private final WorkerMetrics metrics;
    private final BatchSizes sizes;

    BatchRunner(ImageEngine engine, WorkerMetrics metrics, BatchSizes sizes) {
        this.engine = engine;
        this.metrics = metrics;
        this.sizes = sizes;
    }

    /**
     * @param progress the listener for a run of these jobs (the batch, or one job run alone)
     * @param formedAtNanos when the worker took the batch from its queue: the batch sizes learn the whole cost of a
     *                      batch from there (the read barrier and job.started writes before the engine, not only the
     *                      engine), since that cost per batch is what larger batches share
     */
    List<Outcome> run(List<JobRequest> jobs, Function<List<JobRequest>, ProgressListener> progress, long formedAtNanos) {
        try {
            List<Outcome> outcomes = succeeded(jobs, engine.generate(requests(jobs), progress.apply(jobs)));
            sizes.measured(jobs.get(0).batchKey(), jobs.size(), (System.nanoTime() - formedAtNanos) / 1e6);
            metrics.engineBatch(jobs.size(), outcomes.get(0).image().timings());
            return outcomes;
        } catch (RuntimeException | OutOfMemoryError e) {
            if (jobs.size() == 1) {
                try (JobLogContext ignored = JobLogContext.of(jobs.get(0))) {
                    LOG.warn("Job {} failed in the engine", jobs.get(0).id(), e);
                }
                return List.of(new Outcome(jobs.get(0), null, engineError(e)));
            }
            LOG.warn("A batch of {} jobs failed in the engine; retrying each job alone", jobs.size(), e);
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (JobRequest job : jobs) {
            outcomes.addAll(run(List.of(job), progress, System.nanoTime()));
        }
        return outcomes;
    }

    private static List<Outcome> succeeded(List<JobRequest> jobs, List<GeneratedImage> images) {
        if (images.size() != jobs.size()) {
            throw new IllegalStateException("the engine returned " + images.size() + " images for " + jobs.size() + " jobs");
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            outcomes.add(new Outcome(jobs.get(i), images.get(i), null));
        }
        return outcomes;
    }

    static GenerationRequest request(JobRequest job) {
        return new GenerationRequest(job.prompt(), job.seed(), job.width(), job.height(), job.steps(),
                Sampler.fromWireName(job.sampler()), Decoder.fromWireName(job.decoder()));
    }

    private static List<GenerationRequest> requests(List<JobRequest> jobs) {
        return jobs.stream().map(BatchRunner::request).toList();
    }

    private static ErrorInfo engineError(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new ErrorInfo(ENGINE_ERROR, "the engine could not make this image: " + message);
    }
}
