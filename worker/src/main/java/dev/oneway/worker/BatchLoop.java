package dev.oneway.worker;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.Sampler;
import dev.oneway.engine.image.LatentPreview;
import dev.oneway.worker.BatchRunner.Outcome;
import dev.oneway.worker.CompletionPipeline.QueuedJob;
import dev.oneway.worker.OffsetTracker.Delivery;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch loop, which keeps the engine fed: consumed jobs wait in the {@link MicroBatcher} for compatible mates,
 * then run through the engine one batch at a time on the engine executor. Before a batch it reads the events log to
 * its end and decides, per job, whether it runs at all (it may have ended already, been canceled, or be a second
 * copy). After the engine, each job goes its own way through the {@link CompletionPipeline} while the next batch
 * already runs. Runs on the worker's context.
 */
final class BatchLoop {

    private static final Logger LOG = LoggerFactory.getLogger(BatchLoop.class);
    private static final int REMEMBERED_RECORDS = 100_000;

    private final Context context;
    private final String workerId;
    private final MicroBatcher<QueuedJob> batcher;
    private final WorkerExecutor engineExecutor;
    private final BatchRunner runner;
    private final ModelDefaults model;
    private final OffsetTracker offsets;
    private final JobEventWatch watch;
    private final JobEventPublisher events;
    private final CompletionPipeline pipeline;
    private final WorkerMetrics metrics;
    /** Where each job's completion goes, so that offsets are committed and shutdown waits for it. */
    private final Consumer<Future<Void>> track;

    /** Per job id, the offset of the first gateway record seen: a later one is a duplicate and never runs. */
    private final Map<String, Long> firstRecord = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > REMEMBERED_RECORDS;
        }
    };
    /**
     * Jobs between their batch and their outcome here, with the copy that runs: a second copy (a requeue, a redelivery)
     * is skipped while that one stands for the job, i.e. while its assignment is still ours.
     */
    private final Map<String, QueuedJob> running = new HashMap<>();
    /** Per running job, the furthest progress told, so a retried run never moves it backwards. */
    private final Map<String, Double> progressTold = new HashMap<>();
    /** Per running job, the last sampler step whose preview was told. */
    private final Map<String, Integer> previewTold = new HashMap<>();
    /** The completions of jobs this loop has started, until each ends. */
    private final Set<Future<Void>> completing = new HashSet<>();
    private Future<Void> runningBatch;
    private long batchTimer = -1;
    private boolean stopped;

    BatchLoop(Context context, String workerId, MicroBatcher<QueuedJob> batcher, WorkerExecutor engineExecutor,
              BatchRunner runner, ModelDefaults model, OffsetTracker offsets, JobEventWatch watch, JobEventPublisher events,
              CompletionPipeline pipeline, WorkerMetrics metrics, Consumer<Future<Void>> track) {
        this.context = context;
        this.workerId = workerId;
        this.batcher = batcher;
        this.engineExecutor = engineExecutor;
        this.runner = runner;
        this.model = model;
        this.offsets = offsets;
        this.watch = watch;
        this.events = events;
        this.pipeline = pipeline;
        this.metrics = metrics;
        this.track = track;
    }

    void add(QueuedJob job, long nowMs) {
        batcher.add(job, nowMs);
    }

    int waiting() {
        return batcher.pending();
    }

    /** Waiting jobs of revoked partitions go back to the group; how many there were. */
    int giveBack(Collection<org.apache.kafka.common.TopicPartition> partitions) {
        return batcher.removeIf(q -> partitions.contains(q.delivery().partition())).size();
    }

    /** The jobs between their batch and their outcome here whose records are on {@code partitions}. */
    List<JobRequest> runningOn(Collection<org.apache.kafka.common.TopicPartition> partitions) {
        return running.values().stream().filter(q -> partitions.contains(q.delivery().partition())).map(QueuedJob::job)
                .toList();
    }

    /** Starts no more batches; the running one, if any, is returned to wait for. */
    Optional<Future<Void>> stop() {
        stopped = true;
        if (batchTimer >= 0) {
            context.owner().cancelTimer(batchTimer);
        }
        return Optional.ofNullable(runningBatch);
    }

    /** Runs the next batch when the engine is free and a batch is ready, or sets a timer for when one will be. */
    void next() {
        if (runningBatch != null || stopped) {
            return;
        }
        long now = nowMs();
        Optional<List<QueuedJob>> ready = batcher.takeReady(now);
        if (ready.isEmpty()) {
            scheduleBatchTimer(batcher.msUntilReady(now));
            return;
        }
        Future<Void> batch = runBatch(ready.get());
        runningBatch = batch;
        track.accept(batch); // its skipped jobs' offsets get committed, and shutdown waits for it
        batch.onComplete(ar -> {
            runningBatch = null;
            context.runOnContext(v -> next());
        });
    }

    private void scheduleBatchTimer(long delayMs) {
        if (batchTimer >= 0) {
            context.owner().cancelTimer(batchTimer);
            batchTimer = -1;
        }
        if (delayMs >= 0) {
            batchTimer = context.owner().setTimer(Math.max(1, delayMs), id -> {
                batchTimer = -1;
                next();
            });
        }
    }

    /** Completes when the engine is done with the batch; the jobs' completions go on without holding the loop. */
    private Future<Void> runBatch(List<QueuedJob> batch) {
        long formedAt = System.nanoTime();
        return watch.sync().recover(e -> {
            LOG.warn("Worker {}: the events log could not be read to its end ({}); going by what is known", workerId, e.toString());
            return Future.succeededFuture();
        }).compose(v -> {
            List<QueuedJob> runnable = new ArrayList<>();
            List<QueuedJob> interrupted = new ArrayList<>();
            Set<String> ids = new HashSet<>();
            for (QueuedJob q : batch) {
                String id = q.job().id();
                if (!offsets.owns(q.delivery())) {
                    continue; // revoked meanwhile: the next owner has it
                }
                if (watch.isFinished(id)) {
                    pipeline.skip(q, "it already has its outcome");
                } else if (running.containsKey(id) && offsets.owns(running.get(id).delivery())) {
                    pipeline.skip(q, "another copy of the job is running here; its outcome is the job's");
                } else if (isDuplicate(q) || !ids.add(id)) {
                    pipeline.skip(q, "a second record of a job that already has one (gateways raced on its "
                            + "Idempotency-Key, or a redelivery); the first record is the job");
                } else if (watch.isCanceled(id)) {
                    track.accept(whileRunning(q, pipeline.cancel(q)));
                } else {
                    String problem = problemWith(q.job());
                    int runs = watch.runs(id);
                    if (problem != null) {
                        track.accept(whileRunning(q, pipeline.reject(q, problem)));
                    } else if (!pipeline.mayRunAgain(runs)) {
                        track.accept(whileRunning(q, pipeline.giveUp(q, runs)));
                    } else if (runs > q.attempt() - 1) {
                        LOG.warn("Worker {}: job {} was running when its worker stopped (run {} of at most {} begins); "
                                + "it runs alone", workerId, id, runs + 1, pipeline.maxRuns());
                        interrupted.add(q);
                    } else {
                        runnable.add(q);
                    }
                }
            }
            Future<Void> done = runnable.isEmpty() ? Future.succeededFuture() : generate(runnable, formedAt);
            // A job whose worker died while running it (killed, crashed, out of memory) may be what killed it: it runs
            // alone, and with no other job between its start and its outcome here, so that if it kills this worker too
            // no other job dies with it and only its own runs are counted.
            for (QueuedJob q : interrupted) {
                done = done.compose(x -> quiet()).compose(x -> stopped || !offsets.owns(q.delivery())
                        ? Future.<Void>succeededFuture() // stopping, or revoked meanwhile: the next owner runs it
                        : generate(List.of(q), System.nanoTime())).compose(x -> quiet());
            }
            return done;
        });
    }

    /** Completes once no job of this loop is between its start and its outcome. */
    private Future<Void> quiet() {
        return Future.join(List.copyOf(completing)).<Void>mapEmpty().otherwiseEmpty();
    }

    private boolean isDuplicate(QueuedJob q) {
        if (q.attempt() > 1) {
            return false; // a requeued attempt, written by a worker
        }
        long offset = q.delivery().offset();
        Long first = firstRecord.putIfAbsent(q.job().id(), offset);
        return first != null && first != offset;
    }

    private String problemWith(JobRequest job) {
        try {
            Sampler.fromWireName(job.sampler());
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return model.problemWith(job.width(), job.height(), job.steps());
    }

    private Future<Void> generate(List<QueuedJob> runnable, long formedAtNanos) {
        int batchSize = runnable.size();
        Instant startedAt = Instant.now();
        List<JobRequest> jobs = runnable.stream().map(QueuedJob::job).toList();
        List<Future<Void>> announced = new ArrayList<>();
        for (QueuedJob q : runnable) {
            running.put(q.job().id(), q);
            Duration waited = Duration.between(q.job().createdAt(), startedAt);
            metrics.waitedInQueue(waited.isNegative() ? Duration.ZERO : waited);
            announced.add(pipeline.announce(q, batchSize));
        }
        LOG.debug("Worker {} runs a batch of {} ({})", workerId, batchSize, jobs.get(0).batchKey());
        // A job that may have run before (it was on the log when its partition came to this worker) goes through the
        // engine only once its start is on the log, so that a run which takes the process down is counted
        // (JobEventWatch.runs) and a job that kills its worker every time ends after ONEWAY_MAX_ATTEMPTS runs. A job
        // accepted since does not wait for that (4-9 ms per batch, measured): if it kills this worker before its
        // start is written, its next owner finds it on the log and counts from there, one uncounted run at most.
        boolean mayHaveRun = runnable.stream().anyMatch(q -> offsets.mayHaveRunBefore(q.delivery(), q.job().createdAt()));
        return (mayHaveRun ? Future.all(announced) : Future.succeededFuture()).transform(written -> written.failed()
                        ? Future.succeededFuture(notRun(jobs, written.cause())) // each job is handed back in complete()
                        : engineExecutor.executeBlocking(() -> runner.run(jobs, this::progressOf, formedAtNanos), false))
                .recover(e -> {
                    // Not an engine exception (those become per-job errors) but an Error escaping the engine.
                    LOG.error("Worker {}: the engine thread failed", workerId, e);
                    ErrorInfo error = new ErrorInfo(BatchRunner.ENGINE_ERROR, "the engine failed: " + e);
                    return Future.succeededFuture(jobs.stream().map(j -> new Outcome(j, null, error)).toList());
                })
                .map(outcomes -> {
                    for (int i = 0; i < runnable.size(); i++) {
                        QueuedJob q = runnable.get(i);
                        track.accept(whileRunning(q, pipeline.complete(q, announced.get(i), outcomes.get(i), startedAt)));
                    }
                    return null;
                });
    }

    private static List<Outcome> notRun(List<JobRequest> jobs, Throwable why) {
        ErrorInfo error = new ErrorInfo(BatchRunner.ENGINE_ERROR, "not run: its start was not written (" + why.getMessage() + ")");
        return jobs.stream().map(j -> new Outcome(j, null, error)).toList();
    }

    /** The job counts as running here until its completion is done. */
    private Future<Void> whileRunning(QueuedJob q, Future<Void> completion) {
        running.put(q.job().id(), q);
        completing.add(completion);
        return completion.onComplete(ar -> {
            completing.remove(completion);
            progressTold.remove(q.job().id());
            previewTold.remove(q.job().id());
            running.remove(q.job().id(), q);
        });
    }

    /**
     * Progress of the jobs a run covers (a whole batch, or one job run alone after its batch failed), never backwards;
     * and a job.preview per sampler step for the jobs that asked for previews (only their rows are computed), in step
     * order, each step told once even when a failed batch is run again job by job.
     */
    private ProgressListener progressOf(List<JobRequest> jobs) {
        return new ProgressListener() {
            @Override
            public void stageFinished(String stage, int done, int total) {
                context.runOnContext(v -> {
                    double fraction = total <= 0 ? 0 : done / (double) total;
                    for (JobRequest job : jobs) {
                        if (fraction <= progressTold.getOrDefault(job.id(), 0.0)) {
                            continue;
                        }
                        progressTold.put(job.id(), fraction);
                        publishQuietly(job, JobEvent.progress(job, stage, done, total));
                    }
                });
            }

            @Override
            public boolean wantsPreview(int row) {
                return jobs.get(row).previews();
            }

            @Override
            public void preview(int row, int step, int steps, LatentPreview.Image image) {
                JobRequest job = jobs.get(row);
                String png = Base64.getEncoder().encodeToString(image.png());
                context.runOnContext(v -> {
                    if (step <= previewTold.getOrDefault(job.id(), 0)) {
                        return;
                    }
                    previewTold.put(job.id(), step);
                    publishQuietly(job, JobEvent.preview(job, step, steps, image.width(), image.height(), png));
                });
            }
        };
    }

    /** Progress and previews are best effort: the job's outcome does not wait for them. */
    private void publishQuietly(JobRequest job, JobEvent event) {
        events.publish(event).onFailure(e -> {
            try (JobLogContext ignored = JobLogContext.of(job)) {
                LOG.debug("{} event of job {} not written: {}", event.type().wireName(), job.id(), e.toString());
            }
        });
    }

    static long nowMs() {
        return System.nanoTime() / 1_000_000;
    }
}
