package dev.oneway.worker;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.Sampler;
import dev.oneway.worker.BatchRunner.Outcome;
import dev.oneway.worker.CompletionPipeline.QueuedJob;
import dev.oneway.worker.OffsetTracker.Delivery;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's batch loop, which keeps the engine fed: jobs arrive from the {@link JobFeed} (the group membership),
 * wait in the {@link MicroBatcher} for compatible mates, and run through the engine one batch at a time on the
 * engine executor. Each job then goes its own way through the {@link CompletionPipeline}, which owns delivery
 * (upload, terminal event, offset), while the next batch already runs.
 */
public final class JobConsumerVerticle extends VerticleBase implements JobFeed.Owner {

    private static final Logger LOG = LoggerFactory.getLogger(JobConsumerVerticle.class);
    private static final int REMEMBERED_RECORDS = 100_000;
    /** How long a revocation waits for this worker's writes in flight (inside the group's rebalance timeout). */
    private static final long REVOKE_SETTLE_MS = 5_000;

    private final OnewayConfig config;
    private final ImageEngine engine;
    private final String workerId;
    private final String groupInstanceId;
    private final WorkerMetrics metrics;

    private final OffsetTracker offsets = new OffsetTracker();
    /** Per job id, the offset of the first gateway record this worker saw: a later one is a duplicate. */
    private final Map<String, Long> firstRecord = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > REMEMBERED_RECORDS;
        }
    };
    /** Per running job, the furthest progress told, so a retried run never moves it backwards. */
    private final Map<String, Double> progressTold = new HashMap<>();
    private final Set<Future<Void>> completing = new HashSet<>();
    /**
     * Jobs between their batch and their outcome here, with the copy that runs: a second copy (a requeue, a redelivery)
     * is skipped while that one stands for the job, i.e. while its assignment is still ours.
     */
    private final Map<String, Delivery> runningIds = new HashMap<>();

    private JobFeed feed;
    private JobEventWatch watch;
    private JobEventPublisher events;
    private JobRetries retries;
    private CompletionPipeline pipeline;
    private MicroBatcher<QueuedJob> batcher;
    private BatchRunner runner;
    private ModelDefaults modelDefaults;
    private WorkerExecutor engineExecutor;
    private int backlogLimit;
    private long shutdownGraceMs;
    private Future<Void> runningBatch;
    private Future<Void> commitInFlight;
    private boolean commitAgain;
    private long batchTimer = -1;
    private boolean stopping;

    /**
     * @param engine shared by every worker verticle of the JVM; batches are serialized on one engine thread
     * @param workerId reported in each succeeded job's timings as "worker"
     * @param groupInstanceId static group membership (null: dynamic), so a restarted worker gets its partitions back
     * @param metrics shared by every worker verticle of the JVM and served by its {@link WorkerHttpServer}
     */
    public JobConsumerVerticle(OnewayConfig config, ImageEngine engine, String workerId, String groupInstanceId,
                               WorkerMetrics metrics) {
        this.config = config;
        this.engine = engine;
        this.workerId = workerId;
        this.groupInstanceId = groupInstanceId;
        this.metrics = metrics;
    }

    public String workerId() {
        return workerId;
    }

    @Override
    public Future<?> start() {
        int maxBatchSize = config.getInt(Setting.MAX_BATCH_SIZE);
        backlogLimit = 2 * maxBatchSize;
        shutdownGraceMs = config.getInt(Setting.SHUTDOWN_GRACE_MS);
        batcher = new MicroBatcher<>(maxBatchSize, config.getInt(Setting.MAX_BATCH_WAIT_MS), q -> q.job().batchKey());
        // One engine thread per JVM whatever the number of verticles: the model is loaded once and one batch
        // at a time uses it. A batch on a real model may run for minutes, which is expected, not blocked.
        engineExecutor = vertx.createSharedWorkerExecutor("oneway-engine", 1, 1, TimeUnit.HOURS);
        WorkerExecutor storageExecutor = vertx.createSharedWorkerExecutor("oneway-storage", 4, 10, TimeUnit.MINUTES);
        ImageStore store = new ImageStore(config);
        runner = new BatchRunner(engine, metrics);
        retries = new JobRetries(vertx, config, workerId + "-retries");
        events = new JobEventPublisher(vertx, config, workerId + "-events");
        watch = new JobEventWatch(context, config, workerId + "-watch");
        pipeline = new CompletionPipeline(vertx, config, workerId, offsets, watch, events, retries, store, storageExecutor,
                metrics, () -> stopping);
        Map<String, Object> consumer = KafkaSettings.groupConsumer(config, workerId);
        consumer.put("max.poll.records", String.valueOf(maxBatchSize));
        if (groupInstanceId != null) {
            consumer.put("group.instance.id", groupInstanceId);
        }
        feed = new JobFeed(consumer, config.get(Setting.JOBS_TOPIC), context, this, "oneway-feed-" + workerId);
        return engineExecutor.executeBlocking(engine::defaults)
                .onSuccess(defaults -> modelDefaults = defaults)
                .compose(v -> storageExecutor.executeBlocking(() -> {
                    store.ensureBucket();
                    return null;
                }))
                .compose(v -> watch.start())
                .onSuccess(v -> {
                    feed.start();
                    LOG.info("Worker {} consuming {} in group {}{}", workerId, config.get(Setting.JOBS_TOPIC),
                            config.get(Setting.CONSUMER_GROUP), groupInstanceId == null ? "" : " as " + groupInstanceId);
                });
    }

    /**
     * Stops taking jobs, lets the running batch and its jobs' completions finish for up to ONEWAY_SHUTDOWN_GRACE_MS,
     * commits what is finished, then leaves the group. Jobs not finished by then are handed back: their offsets stay
     * uncommitted, so the group redelivers them.
     */
    @Override
    public Future<?> stop() {
        stopping = true;
        if (batchTimer >= 0) {
            vertx.cancelTimer(batchTimer);
        }
        List<Future<Void>> inFlight = new ArrayList<>(completing);
        if (runningBatch != null) {
            inFlight.add(runningBatch);
        }
        Future<?> drained = Future.join(inFlight).timeout(shutdownGraceMs, TimeUnit.MILLISECONDS).recover(e -> {
            LOG.warn("Worker {}: jobs still running after {} ms; handing them back", workerId, shutdownGraceMs);
            return Future.succeededFuture();
        });
        return drained
                .transform(ar -> feed == null ? Future.succeededFuture() : feed.close(offsets::committable))
                .transform(ar -> closeQuietly(events == null ? null : events.close()))
                .transform(ar -> closeQuietly(retries == null ? null : retries.close()))
                .transform(ar -> vertx.executeBlocking(() -> {
                    if (watch != null) {
                        watch.close();
                    }
                    return null;
                }))
                .onComplete(ar -> LOG.info("Worker {} stopped", workerId));
    }

    @Override
    public void assigned(Collection<TopicPartition> partitions) {
        offsets.assigned(partitions);
        LOG.info("Worker {} now consumes {}", workerId, partitions);
    }

    /**
     * Jobs waiting go back at once; terminal events and requeues already being written are let finish (briefly), so
     * the commit that goes with the partitions covers them and the next owner does not run those jobs again.
     */
    @Override
    public Future<Map<TopicPartition, Long>> revoked(Collection<TopicPartition> partitions) {
        List<QueuedJob> returned = batcher.removeIf(q -> partitions.contains(q.delivery().partition()));
        offsets.leaving(partitions);
        return pipeline.settled(partitions, REVOKE_SETTLE_MS).map(v -> {
            Map<TopicPartition, Long> last = offsets.revoke(partitions);
            LOG.info("Worker {} gives up {}; commits {}; {} waiting jobs go back to the group", workerId, partitions,
                    last, returned.size());
            return last;
        });
    }

    @Override
    public void fetched(ConsumerRecords<String, String> records) {
        if (stopping) {
            return; // uncommitted, so redelivered
        }
        long now = nowMs();
        for (ConsumerRecord<String, String> record : records) {
            Delivery delivery = offsets.consumed(new TopicPartition(record.topic(), record.partition()), record.offset());
            JobRequest job;
            try {
                job = JobRequest.fromJson(new JsonObject(record.value()));
            } catch (RuntimeException e) {
                track(pipeline.rejectUnreadable(record, delivery, e.toString()));
                continue;
            }
            batcher.add(new QueuedJob(delivery, job, JobRetries.attemptOf(record)), now);
        }
        runNextBatch();
        updatePause();
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

    /**
     * Reads the events log to its end first, so a job canceled or finished anywhere is known before it would run.
     * Completes when the engine is done with the batch; the jobs' completions go on without holding the loop.
     */
    private Future<Void> runBatch(List<QueuedJob> batch) {
        return watch.sync().recover(e -> {
            LOG.warn("Worker {}: the events log could not be read to its end ({}); going by what is known", workerId, e.toString());
            return Future.succeededFuture();
        }).compose(v -> {
            List<QueuedJob> runnable = new ArrayList<>();
            Set<String> ids = new HashSet<>();
            for (QueuedJob q : batch) {
                String id = q.job().id();
                if (!offsets.owns(q.delivery())) {
                    continue; // revoked meanwhile: the next owner has it
                }
                if (watch.isFinished(id)) {
                    pipeline.skip(q, "it already has its outcome");
                } else if (watch.isCanceled(id)) {
                    track(pipeline.cancel(q));
                } else if (runningIds.containsKey(id) && offsets.owns(runningIds.get(id))) {
                    pipeline.skip(q, "another copy of the job is running here; its outcome is the job's");
                } else if (isDuplicate(q) || !ids.add(id)) {
                    pipeline.skip(q, "a second record of a job that already has one (gateways raced on its "
                            + "Idempotency-Key, or a redelivery); the first record is the job");
                } else {
                    String problem = problemWith(q.job());
                    if (problem != null) {
                        track(pipeline.reject(q, problem));
                    } else {
                        runnable.add(q);
                        runningIds.put(id, q.delivery());
                    }
                }
            }
            commitSoon();
            return runnable.isEmpty() ? Future.succeededFuture() : generate(runnable);
        });
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
        return modelDefaults.problemWith(job.width(), job.height(), job.steps());
    }

    private Future<Void> generate(List<QueuedJob> runnable) {
        int batchSize = runnable.size();
        Instant startedAt = Instant.now();
        List<JobRequest> jobs = runnable.stream().map(QueuedJob::job).toList();
        List<Future<Void>> announced = new ArrayList<>();
        for (QueuedJob q : runnable) {
            Duration waited = Duration.between(q.job().createdAt(), startedAt);
            metrics.waitedInQueue(waited.isNegative() ? Duration.ZERO : waited);
            announced.add(pipeline.announce(q, batchSize));
        }
        LOG.debug("Worker {} runs a batch of {} ({})", workerId, batchSize, jobs.get(0).batchKey());
        return engineExecutor.executeBlocking(() -> runner.run(jobs, this::progressOf), false)
                .recover(e -> {
                    // Not an engine exception (those become per-job errors) but an Error escaping the engine.
                    LOG.error("Worker {}: the engine thread failed", workerId, e);
                    ErrorInfo error = new ErrorInfo(BatchRunner.ENGINE_ERROR, "the engine failed: " + e);
                    return Future.succeededFuture(jobs.stream().map(j -> new Outcome(j, null, error)).toList());
                })
                .map(outcomes -> {
                    for (int i = 0; i < runnable.size(); i++) {
                        QueuedJob q = runnable.get(i);
                        track(pipeline.complete(q, announced.get(i), outcomes.get(i), startedAt)
                                .onComplete(ar -> {
                                    progressTold.remove(q.job().id());
                                    runningIds.remove(q.job().id(), q.delivery());
                                }));
                    }
                    return null;
                });
    }

    /** Progress of the jobs a run covers (a whole batch, or one job run alone after its batch failed), never backwards. */
    private ProgressListener progressOf(List<JobRequest> jobs) {
        return (stage, done, total) -> context.runOnContext(v -> {
            double fraction = total <= 0 ? 0 : done / (double) total;
            for (JobRequest job : jobs) {
                if (fraction <= progressTold.getOrDefault(job.id(), 0.0)) {
                    continue;
                }
                progressTold.put(job.id(), fraction);
                events.publish(JobEvent.progress(job, stage, done, total)).onFailure(e -> {
                    try (JobLogContext ignored = JobLogContext.of(job)) {
                        LOG.debug("Progress event of job {} not written: {}", job.id(), e.toString());
                    }
                });
            }
        });
    }

    /** Keeps a job's completion in sight (shutdown waits for it) and commits once it is done. */
    private void track(Future<Void> completion) {
        completing.add(completion);
        completion.onComplete(ar -> {
            completing.remove(completion);
            commitSoon();
        });
    }

    /** One commit at a time; finishes during a commit are covered by the next one. */
    private void commitSoon() {
        if (commitInFlight != null) {
            commitAgain = true;
            return;
        }
        Map<TopicPartition, Long> ready = offsets.committable();
        if (ready.isEmpty()) {
            return;
        }
        commitInFlight = feed.commit(ready)
                .onSuccess(v -> offsets.committed(ready))
                .onFailure(e -> LOG.warn("Worker {}: commit of {} failed: {}", workerId, ready, e.toString()))
                .onComplete(ar -> {
                    commitInFlight = null;
                    if (commitAgain) {
                        commitAgain = false;
                        commitSoon();
                    }
                });
    }

    private void updatePause() {
        feed.pause(!stopping && batcher.pending() >= backlogLimit);
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
