package dev.oneway.worker;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's membership of the consumer group: a plain Kafka consumer on a thread of its own, which polls
 * without pause (a long batch never looks like a dead consumer), hands records to the worker's context and
 * carries out its commits and pauses.
 *
 * <p>Rebalances are synchronous, which is why this is not a Vert.x read stream: when the group takes partitions
 * away, the consumer thread asks the worker (on its context) what is finished for them and commits exactly that
 * before the partitions move, so the next owner neither redoes finished jobs nor skips unfinished ones.
 */
final class JobFeed implements ConsumerRebalanceListener {

    /** The worker side, always called on the worker's context. */
    interface Owner {
        void assigned(Collection<TopicPartition> partitions);

        /**
         * Partitions are going: let writes in flight for them finish, forget them, and return the offsets to commit
         * for them now.
         */
        Future<Map<TopicPartition, Long>> revoked(Collection<TopicPartition> partitions);

        /**
         * Partitions already gone, without a chance to commit (this consumer's session expired: the process stalled,
         * or lost the broker). By default as {@link #revoked}, its offsets unused.
         */
        default void lost(Collection<TopicPartition> partitions) {
            revoked(partitions);
        }

        void fetched(ConsumerRecords<String, String> records);
    }

    private static final Logger LOG = LoggerFactory.getLogger(JobFeed.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
    private static final long HANDOVER_TIMEOUT_MS = 10_000;
    /** How soon a failed commit is tried again (what is committable then: partitions gone meanwhile are not). */
    static final long COMMIT_RETRY_MS = 1_000;

    private final KafkaConsumer<String, String> consumer;
    private final Map<String, Object> properties;
    private final String topic;
    private final Context context;
    private final Owner owner;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> requests = new ConcurrentLinkedQueue<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile boolean running = true;
    private volatile boolean started;
    private volatile boolean wantPaused;
    private boolean paused;
    /** On the owner's context: the commit under way, and whether more finished while it ran. */
    private Future<Void> commitInFlight;
    private boolean commitAgain;

    JobFeed(Map<String, Object> properties, String topic, Context context, Owner owner, String name) {
        this.consumer = new KafkaConsumer<>(properties);
        this.properties = Map.copyOf(properties);
        this.topic = topic;
        this.context = context;
        this.owner = owner;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        started = true;
        thread.start();
    }

    /**
     * Commits what {@code offsets} has finished, one commit at a time: what finishes while a commit is under way goes
     * in the next one. On the owner's context.
     */
    void commitFinished(OffsetTracker offsets) {
        if (commitInFlight != null) {
            commitAgain = true;
            return;
        }
        Map<TopicPartition, Long> ready = offsets.committable();
        if (ready.isEmpty()) {
            return;
        }
        commitInFlight = commit(ready)
                .onSuccess(v -> offsets.committed(ready))
                .onFailure(e -> LOG.warn("{}: commit of {} failed{}: {}", thread.getName(), ready,
                        running ? "; trying again in " + COMMIT_RETRY_MS + " ms" : "", e.toString()))
                .onComplete(ar -> {
                    commitInFlight = null;
                    if (commitAgain) {
                        commitAgain = false;
                        commitFinished(offsets);
                    } else if (ar.failed() && running) {
                        // e.g. a rebalance was under way: what finished must not wait for the next job to be committed
                        context.owner().setTimer(COMMIT_RETRY_MS, id -> {
                            if (running) {
                                commitFinished(offsets);
                            }
                        });
                    }
                });
    }

    /** Commits offsets (the next record to read, per partition); completes when Kafka has them. */
    Future<Void> commit(Map<TopicPartition, Long> offsets) {
        Promise<Void> done = Promise.promise();
        requests.add(() -> consumer.commitAsync(asMetadata(offsets), (committed, error) -> context.runOnContext(v -> {
            if (error == null) {
                done.complete();
            } else {
                done.fail(error);
            }
        })));
        return done.future();
    }

    /** Stops fetching (a backlog is waiting) or fetches again; polling, and so membership, goes on either way. */
    void pause(boolean pause) {
        wantPaused = pause;
    }

    /**
     * Commits what {@code finalOffsets} says on the consumer thread, then closes the consumer (a dynamic member
     * leaves the group at once; a static one keeps its partitions until its session times out or it comes back).
     */
    Future<Void> close(Supplier<Map<TopicPartition, Long>> finalOffsets) {
        if (!started) { // the worker failed to start before it joined the group
            consumer.close(Duration.ofSeconds(1));
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        CompletableFuture<Map<TopicPartition, Long>> last = new CompletableFuture<>();
        context.runOnContext(v -> last.complete(finalOffsets.get()));
        requests.add(() -> {
            running = false;
            try {
                Map<TopicPartition, Long> offsets = last.get(HANDOVER_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                if (!offsets.isEmpty()) {
                    consumer.commitSync(asMetadata(offsets), Duration.ofSeconds(5));
                }
            } catch (Exception e) {
                LOG.warn("Final commit failed; the jobs since the last commit will be redelivered: {}", e.toString());
            }
        });
        consumer.wakeup();
        closed.whenComplete((v, e) -> context.runOnContext(x -> done.complete()));
        return done.future();
    }

    private void run() {
        try {
            consumer.subscribe(List.of(topic), this);
            while (running) {
                try {
                    for (Runnable r; (r = requests.poll()) != null; ) {
                        r.run();
                    }
                    if (!running) {
                        break;
                    }
                    applyPause();
                    ConsumerRecords<String, String> records = consumer.poll(POLL_TIMEOUT);
                    if (!records.isEmpty()) {
                        context.runOnContext(v -> owner.fetched(records));
                    }
                } catch (WakeupException e) {
                    // a request or close is waiting
                } catch (RuntimeException e) {
                    LOG.warn("Polling {} failed, retrying: {}", topic, e.toString());
                    sleep(500);
                }
            }
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.warn("Closing the consumer failed: {}", e.toString());
            }
            leaveIfStatic();
            closed.complete(null);
        }
    }

    /**
     * A static member's consumer does not leave the group when it closes (so that a crashed worker coming back under
     * the same identity takes its partitions straight back). A worker that stops on purpose does leave, so that its
     * partitions move to the others at once instead of after the session timeout.
     */
    private void leaveIfStatic() {
        Object instanceId = properties.get("group.instance.id");
        if (instanceId == null) {
            return;
        }
        Map<String, Object> admin = new HashMap<>();
        admin.put("bootstrap.servers", properties.get("bootstrap.servers"));
        admin.put("client.id", properties.get("client.id") + "-leave");
        try (Admin client = Admin.create(admin)) {
            client.removeMembersFromConsumerGroup(String.valueOf(properties.get("group.id")),
                            new RemoveMembersFromConsumerGroupOptions(List.of(new MemberToRemove(String.valueOf(instanceId)))))
                    .all().get(5, TimeUnit.SECONDS);
            LOG.info("{} left the group", instanceId);
        } catch (Exception e) {
            LOG.warn("{} could not leave the group; its partitions move once its session times out: {}", instanceId,
                    e.toString());
        }
    }

    private void applyPause() {
        boolean want = wantPaused;
        if (want == paused) {
            return;
        }
        if (want) {
            consumer.pause(consumer.assignment());
        } else {
            consumer.resume(consumer.paused());
        }
        paused = want;
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        if (paused) {
            consumer.pause(partitions); // new partitions wait with the rest until the backlog drains
        }
        Set<TopicPartition> copy = Set.copyOf(partitions);
        context.runOnContext(v -> owner.assigned(copy));
    }

    /** On the consumer thread, before the partitions move: commit everything finished for them. */
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        Set<TopicPartition> copy = Set.copyOf(partitions);
        CompletableFuture<Map<TopicPartition, Long>> finished = new CompletableFuture<>();
        context.runOnContext(v -> owner.revoked(copy).onComplete(ar -> {
            if (ar.succeeded()) {
                finished.complete(ar.result());
            } else {
                finished.completeExceptionally(ar.cause());
            }
        }));
        try {
            Map<TopicPartition, Long> offsets = finished.get(HANDOVER_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            if (!offsets.isEmpty()) {
                consumer.commitSync(asMetadata(offsets), Duration.ofSeconds(5));
            }
        } catch (Exception e) {
            LOG.warn("Commit on revocation of {} failed; its finished jobs may be redelivered: {}", copy, e.toString());
        }
    }

    /** Taken away without a chance to commit (the session expired): the next owner redoes what was not committed. */
    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
        Set<TopicPartition> copy = Set.copyOf(partitions);
        context.runOnContext(v -> owner.lost(copy));
    }

    private static Map<TopicPartition, OffsetAndMetadata> asMetadata(Map<TopicPartition, Long> offsets) {
        Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
        offsets.forEach((p, o) -> m.put(p, new OffsetAndMetadata(o)));
        return m;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
