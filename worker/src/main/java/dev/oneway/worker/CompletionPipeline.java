package dev.oneway.worker;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.ImageResult;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.engine.GeneratedImage;
import dev.oneway.engine.StageTimings;
import dev.oneway.worker.BatchRunner.Outcome;
import dev.oneway.worker.OffsetTracker.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to each consumed job, one job at a time, after the batch loop has run it through the engine.
 *
 * <p>The contract, which this class is: <b>at least once, exactly one terminal event, offsets never pass an
 * unfinished job.</b>
 * <ol>
 *   <li>announce: job.started (job.retrying when it ran before), acknowledged before the image can be stored;</li>
 *   <li>read the events log up to that point: a cancel request that came first wins, the image is discarded and
 *       the terminal event is job.canceled;</li>
 *   <li>upload the PNG (bounded retries), then write the terminal event (retried until acknowledged), and only
 *       then mark the offset finished;</li>
 *   <li>a failed attempt is requeued on the jobs topic with its attempt number, or, when attempts are used up or
 *       the failure cannot be retried, dead-lettered and failed for its owner;</li>
 *   <li>a job whose partition was revoked meanwhile is handed back at the next step: nothing more is written
 *       for it and its offset stays uncommitted, so the next owner runs it and writes its one outcome.</li>
 * </ol>
 * Every Kafka write and upload goes through one {@link RetryPolicy}. Runs on the worker's context.
 */
final class CompletionPipeline {

    static final String INVALID_JOB = "invalid_job";
    static final String STORAGE_ERROR = "storage_error";
    /** The last error of a job whose worker stopped while running it (killed, crashed, out of memory). */
    static final String WORKER_STOPPED = "worker_stopped";

    /** A consumed job: where it came from (one assignment of its partition) and which attempt this is. */
    record QueuedJob(Delivery delivery, JobRequest job, int attempt) { }

    private static final Logger LOG = LoggerFactory.getLogger(CompletionPipeline.class);
    private static final long KAFKA_FIRST_DELAY_MS = 200;
    private static final long KAFKA_MAX_DELAY_MS = 10_000;

    private final String workerId;
    private final OffsetTracker offsets;
    private final JobEventWatch watch;
    private final JobEventPublisher events;
    private final JobRetries retries;
    private final ImageStore store;
    private final WorkerExecutor storageExecutor;
    private final WorkerMetrics metrics;
    private final BooleanSupplier stopping;
    private final RetryPolicy uploads;
    private final RetryPolicy kafka;
    /** Outcome writes in flight (terminal events, requeues, dead letters), by partition of the job's record. */
    private final Map<TopicPartition, Set<Future<Void>>> writing = new HashMap<>();

    CompletionPipeline(Vertx vertx, OnewayConfig config, String workerId, OffsetTracker offsets, JobEventWatch watch,
                       JobEventPublisher events, JobRetries retries, ImageStore store, WorkerExecutor storageExecutor,
                       WorkerMetrics metrics, BooleanSupplier stopping) {
        this.workerId = workerId;
        this.offsets = offsets;
        this.watch = watch;
        this.events = events;
        this.retries = retries;
        this.store = store;
        this.storageExecutor = storageExecutor;
        this.metrics = metrics;
        this.stopping = stopping;
        this.uploads = new RetryPolicy(vertx, config.getInt(Setting.S3_UPLOAD_ATTEMPTS),
                config.getInt(Setting.S3_UPLOAD_BACKOFF_MS), 30_000);
        this.kafka = new RetryPolicy(vertx, 0, KAFKA_FIRST_DELAY_MS, KAFKA_MAX_DELAY_MS);
    }

    /** Step 1: job.started, or job.retrying for a job that ran before; completes when Kafka has it. */
    Future<Void> announce(QueuedJob q, int batchSize) {
        JobRequest job = q.job();
        boolean ranBefore = q.attempt() > 1 || watch.hasStarted(job.id());
        JobEvent event = ranBefore
                ? JobEvent.retrying(job, batchSize, q.attempt())
                : JobEvent.started(job, batchSize);
        return kafka.run(event.type().wireName() + " of job " + job.id(), () -> events.publish(event), stopping);
    }

    /** Steps 2 to 5 for a job the engine ran; completes once its offset is finished or the job is handed back. */
    Future<Void> complete(QueuedJob q, Future<Void> announced, Outcome outcome, Instant startedAt) {
        JobRequest job = q.job();
        return announced
                .compose(v -> kafka.run("reading the events of job " + job.id(), watch::sync, stopping))
                .compose(v -> {
                    if (!offsets.owns(q.delivery())) {
                        return handBack(q, "its partition was reassigned while it ran");
                    }
                    if (watch.isFinished(job.id())) {
                        skip(q, "another copy of it (a redelivery, or its requeued attempt) has ended it meanwhile");
                        return Future.succeededFuture();
                    }
                    if (watch.isCanceled(job.id())) {
                        log(job, "Job {} was canceled before it started; its image is discarded", job.id());
                        return cancel(q);
                    }
                    return outcome.error() != null ? failAttempt(q, outcome.error()) : store(q, outcome.image(), startedAt);
                }, e -> handBack(q, "its start could not be written: " + e.getMessage()));
    }

    /** A job whose cancel request came before any start: its terminal job.canceled, and no image. */
    Future<Void> cancel(QueuedJob q) {
        return finish(q, JobEvent.canceled(q.job().id(), q.job().tenant()));
    }

    /** A job the model cannot make (size, steps, sampler): failed at once, never retried. */
    Future<Void> reject(QueuedJob q, String problem) {
        return finish(q, JobEvent.failed(q.job(), new ErrorInfo(INVALID_JOB, problem)));
    }

    /** Whether a job may run once more after {@code runs} runs begun (ONEWAY_MAX_ATTEMPTS in all). */
    boolean mayRunAgain(int runs) {
        return retries.hasAttemptsLeft(runs);
    }

    int maxRuns() {
        return retries.maxAttempts();
    }

    /**
     * A job that has used its runs without an outcome, its worker having stopped during some of them (the others
     * failed in the engine or the upload): set aside on the dead-letter topic and failed for its owner, not run again.
     * A job that takes its worker down every time (it runs out of memory, or the engine crashes the process on it)
     * must not take down every worker of the group, one after another, for ever.
     */
    Future<Void> giveUp(QueuedJob q, int runs) {
        int stopped = Math.max(1, runs - (q.attempt() - 1));
        ErrorInfo error = new ErrorInfo(WORKER_STOPPED, "the worker running it stopped before it ended (killed, crashed "
                + "or out of memory) " + (stopped == 1 ? "once" : stopped + " times"));
        return deadLetter(q, runs, error);
    }

    /**
     * An unreadable record: set aside on the dead-letter topic with its raw value, and, when its id and tenant can be
     * read, failed for its owner with code invalid_job. Either way its offset is finished: it can never run.
     */
    Future<Void> rejectUnreadable(ConsumerRecord<String, String> record, Delivery delivery, String problem) {
        LOG.error("Worker {}: unreadable job record at {}-{}@{}: {}", workerId, record.topic(), record.partition(),
                record.offset(), problem);
        ErrorInfo error = new ErrorInfo(INVALID_JOB, "the job record could not be read: " + problem);
        Future<Void> deadLettered = kafka.run("dead-lettering an unreadable record",
                () -> retries.deadLetterRaw(record, error), stopping);
        return deadLettered.compose(v -> {
            JobEvent failed = JobRetries.failedEventFor(record, error);
            if (failed == null) {
                return Future.succeededFuture();
            }
            return kafka.run("job.failed of unreadable job " + failed.id(), () -> events.publish(failed), stopping)
                    .onSuccess(x -> metrics.finished(failed));
        }).onSuccess(v -> offsets.finished(delivery))
                .recover(e -> {
                    LOG.error("Worker {}: unreadable record at {}-{}@{} left uncommitted: {}", workerId, record.topic(),
                            record.partition(), record.offset(), e.toString());
                    return Future.succeededFuture();
                });
    }

    /** Completes when the outcome writes in flight for these partitions are done, or after {@code maxWaitMs}. */
    Future<Void> settled(Collection<TopicPartition> partitions, long maxWaitMs) {
        List<Future<Void>> pending = new ArrayList<>();
        partitions.forEach(p -> pending.addAll(writing.getOrDefault(p, Set.of())));
        if (pending.isEmpty()) {
            return Future.succeededFuture();
        }
        return Future.join(pending).<Void>mapEmpty().timeout(maxWaitMs, TimeUnit.MILLISECONDS)
                .recover(e -> Future.succeededFuture());
    }

    /** An outcome write for the job; revocation waits for it (see {@link #settled}). */
    private Future<Void> writeOutcome(QueuedJob q, String what, Supplier<Future<Void>> write) {
        TopicPartition partition = q.delivery().partition();
        Future<Void> written = kafka.run(what, write, stopping);
        writing.computeIfAbsent(partition, p -> new HashSet<>()).add(written);
        written.onComplete(ar -> {
            Set<Future<Void>> set = writing.get(partition);
            if (set != null) {
                set.remove(written);
                if (set.isEmpty()) {
                    writing.remove(partition);
                }
            }
        });
        return written;
    }

    /** Skips a consumed job that needs no run: it has its outcome already, or it is a duplicate record of its id. */
    void skip(QueuedJob q, String why) {
        log(q.job(), "Worker {} skips job {}: {}", workerId, q.job().id(), why);
        offsets.finished(q.delivery());
    }

    private Future<Void> store(QueuedJob q, GeneratedImage image, Instant startedAt) {
        JobRequest job = q.job();
        long uploadStart = System.nanoTime();
        return uploads.<ImageResult>run("Upload of job " + job.id(), () -> storageExecutor.executeBlocking(
                        () -> store.put(job.tenant(), job.id(), image.png(), job.width(), job.height()), false), stopping)
                .compose(result -> {
                    double uploadMs = (System.nanoTime() - uploadStart) / 1e6;
                    metrics.uploaded(uploadMs);
                    return finish(q, JobEvent.succeeded(job, image.batchSize(),
                            timings(job, image.timings(), startedAt, uploadMs), result));
                }, e -> stopping.getAsBoolean()
                        ? handBack(q, "its image was not stored before shutdown")
                        : failAttempt(q, new ErrorInfo(STORAGE_ERROR,
                                "the image was made but could not be stored: " + e.getMessage())));
    }

    /**
     * A failed engine run or upload: the job is queued again as its next attempt, or, after ONEWAY_MAX_ATTEMPTS,
     * set aside on the dead-letter topic and failed for its owner. Either way its offset is finished only once
     * Kafka has the requeued or dead-lettered record.
     */
    private Future<Void> failAttempt(QueuedJob q, ErrorInfo error) {
        JobRequest job = q.job();
        if (!offsets.owns(q.delivery())) {
            return handBack(q, "its partition was reassigned while it ran");
        }
        if (retries.hasAttemptsLeft(q.attempt())) {
            LOG.warn("Worker {}: attempt {} of job {} failed ({}); queuing it again", workerId, q.attempt(), job.id(), error.code());
            return writeOutcome(q, "requeue of job " + job.id(), () -> retries.requeue(job, q.attempt(), error))
                    .onSuccess(v -> offsets.finished(q.delivery()))
                    .recover(e -> e instanceof RetryPolicy.NonRetriable
                            ? deadLetter(q, q.attempt(), error)
                            : handBack(q, "its requeue was not written: " + e.getMessage()));
        }
        return deadLetter(q, q.attempt(), error);
    }

    private Future<Void> deadLetter(QueuedJob q, int attempts, ErrorInfo error) {
        JobRequest job = q.job();
        LOG.error("Worker {}: job {} failed {} attempt(s); dead-lettering it: {}", workerId, job.id(), attempts, error.message());
        return writeOutcome(q, "dead-lettering of job " + job.id(), () -> retries.deadLetter(job, attempts, error))
                .compose(v -> finish(q, JobEvent.failed(job, JobRetries.exhausted(attempts, error))),
                        e -> handBack(q, "its dead letter was not written: " + e.getMessage()));
    }

    /**
     * Writes the job's terminal event and only then marks its offset finished. Kafka outages are waited out; a
     * stopping worker, or one that lost the partition, hands the job back instead.
     */
    private Future<Void> finish(QueuedJob q, JobEvent outcome) {
        JobEvent terminal = outcome.withWebhookOf(q.job()); // the webhook deliverer follows the events topic
        if (!offsets.owns(q.delivery())) {
            return handBack(q, "its partition was reassigned while it ran");
        }
        return writeOutcome(q, terminal.type().wireName() + " of job " + terminal.id(), () -> events.publish(terminal))
                .onSuccess(v -> {
                    watch.markFinished(terminal.id());
                    offsets.finished(q.delivery());
                    metrics.finished(terminal);
                    if (terminal.error() == null) {
                        log(q.job(), "Job {} {}", terminal.id(), terminal.status().wireName());
                    } else {
                        log(q.job(), "Job {} {}: {} ({})", terminal.id(), terminal.status().wireName(),
                                terminal.error().message(), terminal.error().code());
                    }
                })
                .recover(e -> handBack(q, "its " + terminal.type().wireName() + " event was not written: " + e.getMessage()));
    }

    private Future<Void> handBack(QueuedJob q, String why) {
        try (JobLogContext ignored = JobLogContext.of(q.job())) {
            LOG.warn("Worker {}: job {} handed back uncommitted ({}); the group redelivers it", workerId, q.job().id(), why);
        }
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

    private static void log(JobRequest job, String format, Object... args) {
        try (JobLogContext ignored = JobLogContext.of(job)) {
            LOG.info(format, args);
        }
    }
}
