package dev.oneway.worker;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.ImageResult;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.engine.GeneratedImage;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.Sampler;
import dev.oneway.engine.StageTimings;
import dev.oneway.worker.BatchRunner.Outcome;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaReadStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes the jobs topic in the workers' consumer group and turns jobs into images:
 * poll -> micro-batch compatible jobs -> engine (on the engine executor) -> upload each PNG (on the storage
 * executor) -> publish the job's terminal event -> commit. An offset is committed only once the terminal
 * events of every job up to it are acknowledged, so a crash redelivers rather than loses.
 *
 * <p>Polling never stops while a batch runs (a long batch must not look like a dead consumer to the group);
 * when enough jobs wait, the assigned partitions are paused instead, and resumed once the backlog drains.
 */
public final class JobConsumerVerticle extends VerticleBase {

    static final String INVALID_JOB = "invalid_job";
    static final String STORAGE_ERROR = "storage_error";
    private static final Logger LOG = LoggerFactory.getLogger(JobConsumerVerticle.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
    private static final long REPUBLISH_DELAY_MS = 1000;

    private final OnewayConfig config;
    private final ImageEngine engine;
    private final String workerId;
    private final WorkerMetrics metrics;

    private KafkaReadStream<String, String> consumer;
    private JobEventPublisher events;
    private JobEventWatch watch;
    private ImageStore store;
    private BatchRunner runner;
    private JobRetries retries;
    private Backoff uploads;
    private long shutdownGraceMs;
    private ModelDefaults modelDefaults;
    private WorkerExecutor engineExecutor;
    private WorkerExecutor storageExecutor;
    private MicroBatcher<QueuedJob> batcher;
    private final OffsetTracker offsets = new OffsetTracker();
    private int backlogLimit;

    private Future<Void> runningBatch;
    private Future<?> pollInFlight;
    private long batchTimer = -1;
    private boolean paused;
    private boolean assignmentChanged;
    private boolean stopping;

    /** A consumed job, where it came from (so its offset can be marked finished) and which attempt it is. */
    record QueuedJob(TopicPartition partition, long offset, JobRequest job, int attempt) { }

    /**
     * @param engine shared by every worker verticle of the JVM; batches are serialized on one engine thread
     * @param workerId reported in each succeeded job's timings as "worker"
     * @param metrics shared by every worker verticle of the JVM and served by its {@link WorkerHttpServer}
     */
    public JobConsumerVerticle(OnewayConfig config, ImageEngine engine, String workerId, WorkerMetrics metrics) {
        this.config = config;
        this.engine = engine;
        this.workerId = workerId;
        this.metrics = metrics;
    }

    public String workerId() {
        return workerId;
    }

    @Override
    public Future<?> start() {
        int maxBatchSize = config.getInt(Setting.MAX_BATCH_SIZE);
        backlogLimit = 2 * maxBatchSize;
        batcher = new MicroBatcher<>(maxBatchSize, config.getInt(Setting.MAX_BATCH_WAIT_MS), q -> q.job().batchKey());
        // One engine thread per JVM whatever the number of verticles: the model is loaded once and one batch
        // at a time uses it. A batch on a real model may run for minutes, which is expected, not blocked.
        engineExecutor = vertx.createSharedWorkerExecutor("oneway-engine", 1, 1, TimeUnit.HOURS);
        storageExecutor = vertx.createSharedWorkerExecutor("oneway-storage", 4, 10, TimeUnit.MINUTES);
        store = new ImageStore(config);
        runner = new BatchRunner(engine, metrics);
        retries = new JobRetries(vertx, config, workerId + "-retries");
        uploads = new Backoff(vertx, config.getInt(Setting.S3_UPLOAD_ATTEMPTS), config.getInt(Setting.S3_UPLOAD_BACKOFF_MS));
        shutdownGraceMs = config.getInt(Setting.SHUTDOWN_GRACE_MS);
        events = new JobEventPublisher(vertx, config, workerId + "-events");
        watch = new JobEventWatch(vertx, config, workerId + "-watch");
        consumer = KafkaReadStream.create(vertx, consumerProperties(maxBatchSize));
        consumer.partitionsRevokedHandler(this::onPartitionsRevoked);
        consumer.partitionsAssignedHandler(partitions -> {
            assignmentChanged = true;
            LOG.info("Worker {} now consumes {}", workerId, partitions);
        });
        return engineExecutor.executeBlocking(engine::defaults)
                .onSuccess(defaults -> modelDefaults = defaults)
                .compose(v -> storageExecutor.executeBlocking(() -> {
                    store.ensureBucket();
                    return null;
                }))
                .compose(v -> watch.start())
                .compose(v -> consumer.subscribe(Set.of(config.get(Setting.JOBS_TOPIC))))
                .onSuccess(v -> {
                    LOG.info("Worker {} consuming {} in group {}", workerId, config.get(Setting.JOBS_TOPIC),
                            config.get(Setting.CONSUMER_GROUP));
                    pollLoop();
                });
    }

    /**
     * Stops taking jobs, lets the running batch finish and publish for up to ONEWAY_SHUTDOWN_GRACE_MS, commits
     * what is finished, then leaves the group. Jobs not finished by then are handed back: their offsets stay
     * uncommitted, so the group redelivers them to another worker.
     */
    @Override
    public Future<?> stop() {
        stopping = true;
        if (batchTimer >= 0) {
            vertx.cancelTimer(batchTimer);
        }
        Future<?> batch = runningBatch == null ? Future.succeededFuture() : runningBatch
                .timeout(shutdownGraceMs, TimeUnit.MILLISECONDS)
                .recover(e -> {
                    LOG.warn("Worker {}: the running batch did not finish within {} ms; handing its jobs back",
                            workerId, shutdownGraceMs);
                    return Future.succeededFuture();
                });
        Future<?> poll = pollInFlight == null ? Future.succeededFuture() : pollInFlight;
        return Future.join(batch, poll)
                .transform(ar -> consumer == null ? Future.succeededFuture() : commit())
                .transform(ar -> closeQuietly(consumer == null ? null : consumer.close()))
                .transform(ar -> closeQuietly(events == null ? null : events.close()))
                .transform(ar -> closeQuietly(retries == null ? null : retries.close()))
                .transform(ar -> closeQuietly(watch == null ? null : watch.close()))
                .onComplete(ar -> LOG.info("Worker {} stopped", workerId));
    }

    private Map<String, Object> consumerProperties(int maxBatchSize) {
        Map<String, Object> p = KafkaSettings.groupConsumer(config, workerId);
        p.put("max.poll.records", String.valueOf(maxBatchSize));
        return p;
    }

    private void pollLoop() {
        if (stopping) {
            return;
        }
        Future<ConsumerRecords<String, String>> poll = consumer.poll(POLL_TIMEOUT);
        pollInFlight = poll;
        poll.onComplete(ar -> {
            if (ar.succeeded()) {
                accept(ar.result());
            } else if (!stopping) {
                LOG.warn("Worker {} poll failed: {}", workerId, ar.cause().toString());
            }
            runNextBatch();
            updatePause();
            if (ar.succeeded()) {
                pollLoop();
            } else {
                vertx.setTimer(REPUBLISH_DELAY_MS, id -> pollLoop());
            }
        });
    }

    private void accept(ConsumerRecords<String, String> records) {
        long now = nowMs();
        for (ConsumerRecord<String, String> record : records) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            offsets.consumed(partition, record.offset());
            JobRequest job = parse(record);
            if (job == null) {
                offsets.finished(partition, record.offset());
            } else {
                batcher.add(new QueuedJob(partition, record.offset(), job, JobRetries.attemptOf(record)), now);
            }
        }
    }

    private static JobRequest parse(ConsumerRecord<String, String> record) {
        try {
            return JobRequest.fromJson(new JsonObject(record.value()));
        } catch (RuntimeException e) {
            LOG.error("Skipping an unreadable job record at {}-{}@{}: {}", record.topic(), record.partition(),
                    record.offset(), e.toString());
            return null;
        }
    }

    private void runNextBatch() {
        if (runningBatch != null || stopping) {
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
        batch.onComplete(ar -> {
            runningBatch = null;
            commit();
            updatePause();
            context.runOnContext(v -> runNextBatch());
        });
    }

    private void scheduleBatchTimer(long delayMs) {
        if (batchTimer >= 0) {
            vertx.cancelTimer(batchTimer);
            batchTimer = -1;
        }
        if (delayMs >= 0) {
            batchTimer = vertx.setTimer(Math.max(1, delayMs), id -> {
                batchTimer = -1;
                runNextBatch();
            });
        }
    }

    /** Completes when every job of the batch has its terminal event acknowledged (or was skipped). */
    private Future<Void> runBatch(List<QueuedJob> batch) {
        List<Future<Void>> finishing = new ArrayList<>();
        List<QueuedJob> runnable = new ArrayList<>();
        Map<String, QueuedJob> byId = new HashMap<>();
        for (QueuedJob q : batch) {
            String id = q.job().id();
            if (watch.isFinished(id)) {
                // Canceled before it started, or a redelivery of a job that already has its terminal event.
                try (JobLogContext ignored = JobLogContext.of(q.job())) {
                    LOG.info("Worker {} skips job {}: {}", workerId, id, watch.isCanceled(id) ? "canceled" : "already finished");
                }
                offsets.finished(q.partition(), q.offset());
            } else if (byId.containsKey(id)) {
                // The same job twice in one batch (redelivered after a rebalance): run it once.
                offsets.finished(q.partition(), q.offset());
            } else {
                String problem = problemWith(q.job());
                if (problem != null) {
                    finishing.add(finish(q, JobEvent.failed(q.job(), new ErrorInfo(INVALID_JOB, problem))));
                } else {
                    runnable.add(q);
                    byId.put(id, q);
                }
            }
        }
        if (!runnable.isEmpty()) {
            finishing.add(generate(runnable));
        }
        return Future.join(finishing).mapEmpty();
    }

    private String problemWith(JobRequest job) {
        try {
            Sampler.fromWireName(job.sampler());
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return modelDefaults.problemWith(job.width(), job.height(), job.steps());
    }

    private Future<Void> generate(List<QueuedJob> runnable) {
        int batchSize = runnable.size();
        Instant startedAt = Instant.now();
        List<JobRequest> jobs = runnable.stream().map(QueuedJob::job).toList();
        for (JobRequest job : jobs) {
            Duration waited = Duration.between(job.createdAt(), startedAt);
            metrics.waitedInQueue(waited.isNegative() ? Duration.ZERO : waited);
            try (JobLogContext ignored = JobLogContext.of(job)) {
                LOG.debug("Worker {} starts job {} in a batch of {}", workerId, job.id(), batchSize);
            }
            events.publish(JobEvent.started(job, batchSize)).onFailure(e -> {
                try (JobLogContext ignored = JobLogContext.of(job)) {
                    LOG.warn("Started event of job {} not written: {}", job.id(), e.toString());
                }
            });
        }
        LOG.debug("Worker {} runs a batch of {} ({})", workerId, batchSize, jobs.get(0).batchKey());
        return engineExecutor.executeBlocking(() -> runner.run(jobs, progressOf(jobs)), false)
                .recover(e -> {
                    // Not an engine exception (those become per-job errors) but an Error escaping the engine.
                    LOG.error("Worker {}: the engine thread failed", workerId, e);
                    ErrorInfo error = new ErrorInfo(BatchRunner.ENGINE_ERROR, "the engine failed: " + e);
                    return Future.succeededFuture(jobs.stream().map(j -> new Outcome(j, null, error)).toList());
                })
                .compose(outcomes -> {
                    List<Future<Void>> done = new ArrayList<>();
                    for (int i = 0; i < runnable.size(); i++) {
                        done.add(complete(runnable.get(i), outcomes.get(i), startedAt));
                    }
                    return Future.join(done).mapEmpty();
                });
    }

    /** Progress arrives on the engine thread; events are written from this verticle's context, in order. */
    private ProgressListener progressOf(List<JobRequest> jobs) {
        return (stage, done, total) -> context.runOnContext(v -> {
            for (JobRequest job : jobs) {
                events.publish(JobEvent.progress(job, stage, done, total)).onFailure(e -> {
                    try (JobLogContext ignored = JobLogContext.of(job)) {
                        LOG.debug("Progress event of job {} not written: {}", job.id(), e.toString());
                    }
                });
            }
        });
    }

    private Future<Void> complete(QueuedJob q, Outcome outcome, Instant startedAt) {
        JobRequest job = q.job();
        if (outcome.error() != null) {
            return failAttempt(q, outcome.error());
        }
        GeneratedImage image = outcome.image();
        long uploadStart = System.nanoTime();
        // Succeeded only once the object is stored: a storage outage is waited out (bounded), then the attempt fails.
        return uploads.<ImageResult>retry("Upload of job " + job.id(), () -> storageExecutor.executeBlocking(
                        () -> store.put(job.tenant(), job.id(), image.png(), job.width(), job.height()), false), () -> stopping)
                .compose(result -> {
                            double uploadMs = (System.nanoTime() - uploadStart) / 1e6;
                            metrics.uploaded(uploadMs);
                            return finish(q, JobEvent.succeeded(job, image.batchSize(),
                                    timings(job, image.timings(), startedAt, uploadMs), result));
                        },
                        e -> {
                            if (stopping) {
                                LOG.warn("Worker {}: image of job {} not stored before shutdown; handing the job back",
                                        workerId, job.id());
                                return Future.succeededFuture();
                            }
                            LOG.error("Worker {}: image of job {} could not be stored: {}", workerId, job.id(), e.toString());
                            return failAttempt(q, new ErrorInfo(STORAGE_ERROR,
                                    "the image was made but could not be stored: " + e.getMessage()));
                        });
    }

    /**
     * A failed engine run or upload: the job is queued again as its next attempt, or, after ONEWAY_MAX_ATTEMPTS,
     * set aside on the dead-letter topic and failed for its owner. Either way its offset is finished only once
     * Kafka has the requeued or dead-lettered record.
     */
    private Future<Void> failAttempt(QueuedJob q, ErrorInfo error) {
        JobRequest job = q.job();
        if (retries.hasAttemptsLeft(q.attempt())) {
            LOG.warn("Worker {}: attempt {} of job {} failed ({}); queuing it again", workerId, q.attempt(), job.id(), error.code());
            return untilAcknowledged("requeue of job " + job.id(), () -> retries.requeue(job, q.attempt(), error))
                    .onSuccess(v -> offsets.finished(q.partition(), q.offset()))
                    .recover(e -> handBack(job, e));
        }
        LOG.error("Worker {}: job {} failed {} attempts; dead-lettering it: {}", workerId, job.id(), q.attempt(), error.message());
        return untilAcknowledged("dead-lettering of job " + job.id(), () -> retries.deadLetter(job, q.attempt(), error))
                .compose(v -> finish(q, JobEvent.failed(job, JobRetries.exhausted(q.attempt(), error))),
                        e -> handBack(job, e));
    }

    private Future<Void> handBack(JobRequest job, Throwable e) {
        LOG.error("Worker {}: job {} left uncommitted; it will be redelivered: {}", workerId, job.id(), e.toString());
        return Future.succeededFuture();
    }

    private JsonObject timings(JobRequest job, StageTimings t, Instant startedAt, double uploadMs) {
        return new JsonObject()
                .put("worker", workerId)
                .put("queueMs", Math.max(0, Duration.between(job.createdAt(), startedAt).toMillis()))
                .put("textMs", t.textMs())
                .put("encoderMs", t.encoderMs())
                .put("decoderMs", t.decoderMs())
                .put("schedulerMs", t.schedulerMs())
                .put("vaeMs", t.vaeMs())
                .put("pngMs", t.pngMs())
                .put("engineMs", t.totalMs())
                .put("uploadMs", uploadMs);
    }

    /**
     * Writes the job's terminal event and only then marks its offset finished. Kafka outages are waited out;
     * only a stopping worker gives up, leaving the job uncommitted so that it is redelivered.
     */
    private Future<Void> finish(QueuedJob q, JobEvent terminal) {
        return untilAcknowledged(terminal.type().wireName() + " of job " + terminal.id(), () -> events.publish(terminal))
                .onSuccess(v -> {
                    watch.markFinished(terminal.id());
                    offsets.finished(q.partition(), q.offset());
                    metrics.finished(terminal);
                    try (JobLogContext ignored = JobLogContext.of(q.job())) {
                        if (terminal.error() == null) {
                            LOG.info("Job {} {}", terminal.id(), terminal.status().wireName());
                        } else {
                            LOG.info("Job {} {}: {} ({})", terminal.id(), terminal.status().wireName(),
                                    terminal.error().message(), terminal.error().code());
                        }
                    }
                })
                .recover(e -> {
                    try (JobLogContext ignored = JobLogContext.of(q.job())) {
                        LOG.error("Worker {}: terminal event of job {} not written; the job will be redelivered: {}",
                                workerId, terminal.id(), e.toString());
                    }
                    return Future.succeededFuture();
                });
    }

    /** Kafka outages are waited out; only a stopping worker gives up. */
    private Future<Void> untilAcknowledged(String what, Supplier<Future<Void>> write) {
        return write.get().recover(e -> {
            if (stopping) {
                return Future.failedFuture(e);
            }
            LOG.warn("Worker {}: {} not acknowledged, retrying: {}", workerId, what, e.toString());
            return vertx.timer(REPUBLISH_DELAY_MS).compose(v -> untilAcknowledged(what, write));
        });
    }

    private Future<Void> commit() {
        Map<TopicPartition, Long> ready = offsets.committable();
        if (ready.isEmpty()) {
            return Future.succeededFuture();
        }
        Map<TopicPartition, OffsetAndMetadata> request = new HashMap<>();
        ready.forEach((partition, offset) -> request.put(partition, new OffsetAndMetadata(offset)));
        return consumer.commit(request)
                .onSuccess(v -> offsets.committed(ready))
                .<Void>mapEmpty()
                .recover(e -> {
                    // Typically a rebalance took the partition away; its new owner resumes from the last commit.
                    LOG.warn("Worker {}: commit of {} failed: {}", workerId, ready, e.toString());
                    return Future.succeededFuture();
                });
    }

    private void updatePause() {
        if (stopping) {
            return;
        }
        boolean shouldPause = batcher.pending() >= backlogLimit;
        if (shouldPause == paused && !assignmentChanged) {
            return;
        }
        paused = shouldPause;
        assignmentChanged = false;
        Future<Void> change = shouldPause
                ? consumer.assignment().compose(consumer::pause)
                : consumer.paused().compose(consumer::resume);
        change.onFailure(e -> {
            // The assignment moved under us; try again on the next poll.
            assignmentChanged = true;
            LOG.debug("Worker {}: pause/resume failed: {}", workerId, e.toString());
        });
    }

    private void onPartitionsRevoked(Set<TopicPartition> revoked) {
        List<QueuedJob> returned = batcher.removeIf(q -> revoked.contains(q.partition()));
        offsets.forget(revoked);
        assignmentChanged = true;
        LOG.info("Worker {} gives up {}; {} waiting jobs go back to the group", workerId, revoked, returned.size());
    }

    private static Future<Void> closeQuietly(Future<Void> closing) {
        if (closing == null) {
            return Future.succeededFuture();
        }
        return closing.recover(e -> {
            LOG.warn("Close failed: {}", e.toString());
            return Future.succeededFuture();
        });
    }

    private static long nowMs() {
        return System.nanoTime() / 1_000_000;
    }
}
