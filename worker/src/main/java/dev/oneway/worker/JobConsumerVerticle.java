package dev.oneway.worker;

import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import dev.oneway.worker.CompletionPipeline.QueuedJob;
import dev.oneway.worker.OffsetTracker.Delivery;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker: the {@link JobFeed} (its membership of the consumer group) hands it records, the {@link BatchLoop}
 * keeps the engine fed with them, and the {@link CompletionPipeline} takes each job from the engine to its one
 * outcome. This verticle wires the three together and owns what they share: the {@link OffsetTracker} and the
 * commits that follow each job's completion.
 */
public final class JobConsumerVerticle extends VerticleBase implements JobFeed.Owner {

    private static final Logger LOG = LoggerFactory.getLogger(JobConsumerVerticle.class);
    /** How long a revocation waits for this worker's writes in flight (inside the group's rebalance timeout). */
    private static final long REVOKE_SETTLE_MS = 5_000;

    private final OnewayConfig config;
    private final ServedModel model;
    private final ImageEngine engine;
    private final String workerId;
    private final String groupInstanceId;
    private final WorkerMetrics metrics;
    private final BatchSizes batchSizes;
    private final OffsetTracker offsets = new OffsetTracker();
    private final Set<Future<Void>> completing = new HashSet<>();

    private JobFeed feed;
    private JobEventWatch watch;
    private ModelAnnouncer announcer;
    private JobEventPublisher events;
    private JobRetries retries;
    private CompletionPipeline pipeline;
    private BatchLoop loop;
    private int backlogLimit;
    private boolean stopping;

    /**
     * @param model the one model this verticle serves: it consumes that model's jobs topic only, in that model's
     *              group; its engine is shared by every worker verticle of the JVM serving it, and batches of every
     *              model are serialized on one engine thread
     * @param workerId reported in each succeeded job's timings as "worker"
     * @param groupInstanceId static group membership (null: dynamic), so a restarted worker gets its partitions back
     * @param metrics shared by every worker verticle of the JVM and served by its {@link WorkerHttpServer}
     * @param batchSizes how many jobs go in a batch; shared by the verticles of one engine, as it measures that engine
     */
    JobConsumerVerticle(OnewayConfig config, ServedModel model, String workerId, String groupInstanceId,
                        WorkerMetrics metrics, BatchSizes batchSizes) {
        this.config = config;
        this.model = model;
        this.engine = model.engine();
        this.workerId = workerId;
        this.groupInstanceId = groupInstanceId;
        this.metrics = metrics;
        this.batchSizes = batchSizes;
    }

    public String workerId() {
        return workerId;
    }

    @Override
    public Future<?> start() {
        int maxBatchSize = config.getInt(Setting.MAX_BATCH_SIZE);
        backlogLimit = 2 * maxBatchSize;
        // One engine thread per JVM whatever the number of verticles: the model is loaded once and one batch
        // at a time uses it. A batch on a real model may run for minutes, which is expected, not blocked.
        WorkerExecutor engineExecutor = vertx.createSharedWorkerExecutor("oneway-engine", 1, 1, TimeUnit.HOURS);
        WorkerExecutor storageExecutor = vertx.createSharedWorkerExecutor("oneway-storage", 4, 10, TimeUnit.MINUTES);
        ImageStore store = new ImageStore(config);
        String jobsTopic = Topics.jobs(config, model.name());
        retries = new JobRetries(vertx, config, jobsTopic, workerId + "-retries");
        events = new JobEventPublisher(vertx, config, workerId + "-events");
        watch = new JobEventWatch(context, config, workerId + "-watch");
        pipeline = new CompletionPipeline(vertx, config, workerId, offsets, watch, events, retries, store, storageExecutor,
                metrics, () -> stopping);
        Map<String, Object> consumer = KafkaSettings.groupConsumer(config, model.name(), workerId);
        consumer.put("max.poll.records", String.valueOf(maxBatchSize));
        if (groupInstanceId != null) {
            consumer.put("group.instance.id", groupInstanceId);
        }
        feed = new JobFeed(consumer, jobsTopic, context, this, "oneway-feed-" + workerId);
        announcer = new ModelAnnouncer(vertx, config, model, workerId);
        return engineExecutor.executeBlocking(engine::defaults)
                .compose(model -> storageExecutor.executeBlocking(() -> {
                    store.ensureBucket();
                    return model;
                }))
                .compose(model -> watch.start().map(model))
                .compose(model -> announcer.start(context).map(model))
                .onSuccess(model -> {
                    MicroBatcher<QueuedJob> batcher = new MicroBatcher<>(batchSizes,
                            config.getInt(Setting.MAX_BATCH_WAIT_MS), q -> q.job().batchKey());
                    loop = new BatchLoop(context, workerId, batcher, engineExecutor, new BatchRunner(engine, metrics, batchSizes),
                            model, offsets, watch, events, pipeline, metrics, this::track);
                    feed.start();
                    LOG.info("Worker {} serving model {}: consuming {} in group {}{}", workerId, this.model.name(), jobsTopic,
                            consumer.get("group.id"), groupInstanceId == null ? "" : " as " + groupInstanceId);
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
        Future<Void> withdrawn = announcer == null ? Future.succeededFuture() : announcer.stop();
        Future<Void> batch = loop == null ? Future.succeededFuture() : loop.stop().orElse(Future.succeededFuture());
        long graceMs = config.getInt(Setting.SHUTDOWN_GRACE_MS);
        Future<?> drained = batch.transform(ar -> Future.join(new ArrayList<>(completing)))
                .timeout(graceMs, TimeUnit.MILLISECONDS)
                .recover(e -> {
                    LOG.warn("Worker {}: jobs still running after {} ms; handing them back", workerId, graceMs);
                    return Future.succeededFuture();
                });
        return drained
                .transform(ar -> withdrawn)
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
        return giveUp(partitions, true);
    }

    /**
     * As {@link #revoked}, except that the runs under way are not released: a session that expired may be this
     * process stalling on its job (swapping, a hung engine), and such a run must count.
     */
    @Override
    public void lost(Collection<TopicPartition> partitions) {
        giveUp(partitions, false);
    }

    private Future<Map<TopicPartition, Long>> giveUp(Collection<TopicPartition> partitions, boolean releaseRuns) {
        int returned = loop == null ? 0 : loop.giveBack(partitions);
        offsets.leaving(partitions);
        return pipeline.settled(partitions, REVOKE_SETTLE_MS)
                .compose(v -> releaseRuns ? release(partitions) : Future.<Void>succeededFuture())
                .map(v -> {
                    Map<TopicPartition, Long> last = offsets.revoke(partitions);
                    LOG.info("Worker {} gives up {}; commits {}; {} waiting jobs go back to the group", workerId,
                            partitions, last, returned);
                    return last;
                });
    }

    /**
     * Writes job.released for each job still running here on {@code partitions}: the group moved them, so these runs
     * are not the jobs' doing and do not count against ONEWAY_MAX_ATTEMPTS (a job running through three rebalances
     * would otherwise be set aside as if it had killed three workers). A run that takes its worker down, outlasts a
     * stopping worker's grace period or stalls the process until its session expires ({@link #lost}) writes none and
     * counts. Bounded by the settle time; a release not written leaves the run counted.
     */
    private Future<Void> release(Collection<TopicPartition> partitions) {
        List<Future<Void>> written = new ArrayList<>();
        for (JobRequest job : loop == null ? List.<JobRequest>of() : loop.runningOn(partitions)) {
            if (!watch.isFinished(job.id())) {
                LOG.info("Worker {}: job {} is running as its partition moves; the next owner runs it again, and this "
                        + "run is not counted", workerId, job.id());
                written.add(events.publish(JobEvent.released(job)));
            }
        }
        return Future.join(written).<Void>mapEmpty().timeout(REVOKE_SETTLE_MS, TimeUnit.MILLISECONDS)
                .otherwiseEmpty();
    }

    @Override
    public void fetched(ConsumerRecords<String, String> records) {
        if (stopping) {
            return; // uncommitted, so redelivered
        }
        long now = BatchLoop.nowMs();
        for (ConsumerRecord<String, String> record : records) {
            Delivery delivery = offsets.consumed(new TopicPartition(record.topic(), record.partition()), record.offset());
            JobRequest job;
            try {
                job = JobRequest.fromJson(new JsonObject(record.value()));
            } catch (RuntimeException e) {
                track(pipeline.rejectUnreadable(record, delivery, e.toString()));
                continue;
            }
            if (job.model() != null && !job.model().equals(model.name())) {
                // Only a producer other than the gateway can put it here; this pool must not run another model's job.
                track(pipeline.rejectUnreadable(record, delivery, "it names model " + job.model()
                        + " but is on the jobs topic of model " + model.name()));
                continue;
            }
            loop.add(new QueuedJob(delivery, job, JobRetries.attemptOf(record)), now);
        }
        loop.next();
        // Polling (and so membership) goes on while a backlog waits; only fetching pauses.
        feed.pause(loop.waiting() >= backlogLimit);
    }

    /** Keeps a job's completion in sight (shutdown waits for it) and commits once it is done. */
    private void track(Future<Void> completion) {
        completing.add(completion);
        completion.onComplete(ar -> {
            completing.remove(completion);
            feed.commitFinished(offsets);
            if (loop != null && !stopping) {
                feed.pause(loop.waiting() >= backlogLimit);
            }
        });
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
}
