package dev.oneway.common;

import io.vertx.core.Context;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows whole topics (every partition, from the beginning, no consumer group) on a thread of its own and
 * hands every record, in partition order, to a sink on that thread.
 *
 * <p>{@link #sync()} is the read barrier the rest of Oneway builds its promises on: it completes once every
 * record that was on the log when it was called has been handed to the sink. A gateway syncs before it
 * answers for a job, so any gateway sees what any other gateway has acknowledged (read-your-writes) and never
 * less than a client saw before (monotonic reads); a worker syncs before it decides that a job was canceled
 * or already finished. Concurrent syncs share one end-offset request.
 *
 * <p>The end offsets are asked on a connection of their own. A broker reads one request at a time from a connection,
 * so a request sent behind a fetch that waits at the broker for new records (up to {@code fetch.max.wait.ms}) waits
 * as long: on the follower's own consumer every barrier that found the log idle took that whole wait (400-500 ms at
 * Kafka's default, 10-20 ms otherwise, nothing between).
 */
public final class LogFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LogFollower.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(200);
    private static final Duration BUSY_POLL = Duration.ofMillis(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    /** Offsets to reach, and who waits for them. Confined to the follower's thread. */
    private record Barrier(Map<TopicPartition, Long> ends, List<CompletableFuture<Void>> waiting) { }

    private final KafkaConsumer<String, String> consumer;
    /** Asks only the end offsets (same settings, so the same isolation level), on its own connection. */
    private final KafkaConsumer<String, String> endsReader;
    private final List<String> topics;
    private final Consumer<ConsumerRecord<String, String>> sink;
    private final Thread thread;
    private final ConcurrentLinkedQueue<CompletableFuture<Void>> syncRequests = new ConcurrentLinkedQueue<>();
    private final List<Barrier> barriers = new ArrayList<>();
    private final CompletableFuture<Void> caughtUp = new CompletableFuture<>();
    private volatile boolean running = true;
    private Set<TopicPartition> partitions = Set.of();

    /**
     * @param properties consumer settings without a group (see {@link KafkaSettings#eventsReader})
     * @param sink called on the follower's thread for each record, in order within a partition
     */
    public LogFollower(Map<String, Object> properties, List<String> topics, String name,
                       Consumer<ConsumerRecord<String, String>> sink) {
        this.consumer = new KafkaConsumer<>(properties);
        Map<String, Object> endsProperties = new HashMap<>(properties);
        endsProperties.computeIfPresent("client.id", (k, v) -> v + "-ends");
        this.endsReader = new KafkaConsumer<>(endsProperties);
        this.topics = List.copyOf(topics);
        this.sink = sink;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    /** Starts following; completes once every record on the log at start has been handed over. */
    public CompletableFuture<Void> start() {
        syncRequests.add(caughtUp);
        thread.start();
        return caughtUp;
    }

    /**
     * {@link #sync()} for a Vert.x caller: completes on {@code context}, and fails when the log could not be read to
     * its end {@code within} that time (Kafka away).
     */
    public Future<Void> sync(Context context, Duration within) {
        return Future.fromCompletionStage(sync(), context).timeout(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Completes once every record on the log now has been handed to the sink (it may then be far behind again). */
    public CompletableFuture<Void> sync() {
        CompletableFuture<Void> request = new CompletableFuture<>();
        syncRequests.add(request);
        consumer.wakeup();
        return request;
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        endsReader.wakeup();
        try {
            thread.join(REQUEST_TIMEOUT.toMillis() * 2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            while (running && partitions.isEmpty()) {
                try {
                    partitions = lookUpPartitions();
                } catch (WakeupException e) {
                    // a sync asked before the topics exist waits for them
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running) {
                step();
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("Following {} stopped: {}", topics, e.toString(), e);
        } finally {
            failAll(new IllegalStateException("the log follower of " + topics + " stopped"));
            consumer.close(Duration.ofSeconds(1));
            endsReader.close(Duration.ofSeconds(1));
        }
    }

    private void step() {
        try {
            takeSyncRequests();
            releaseBarriers(); // caught up already: answer at once instead of after a poll
            ConsumerRecords<String, String> records = consumer.poll(barriers.isEmpty() ? IDLE_POLL : BUSY_POLL);
            for (ConsumerRecord<String, String> record : records) {
                try {
                    sink.accept(record);
                } catch (RuntimeException e) {
                    LOG.warn("Skipping record {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), e.toString());
                }
            }
            releaseBarriers();
        } catch (WakeupException e) {
            if (!running) {
                throw e;
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            LOG.debug("Kafka did not answer while following {}: {}", topics, e.toString());
        }
    }

    /** One end-offset request for every sync asked for since the last one. */
    private void takeSyncRequests() {
        if (syncRequests.isEmpty()) {
            return;
        }
        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        for (CompletableFuture<Void> r; (r = syncRequests.poll()) != null; ) {
            waiting.add(r);
        }
        try {
            Map<TopicPartition, Long> ends = endsReader.endOffsets(partitions, REQUEST_TIMEOUT);
            barriers.add(new Barrier(new HashMap<>(ends), waiting));
        } catch (RuntimeException e) {
            // Kafka is away: keep the requests for the next round; callers bound their own wait.
            syncRequests.addAll(waiting);
            throw e;
        }
    }

    private void releaseBarriers() {
        for (Iterator<Barrier> it = barriers.iterator(); it.hasNext(); ) {
            Barrier barrier = it.next();
            barrier.ends().entrySet().removeIf(e -> consumer.position(e.getKey(), REQUEST_TIMEOUT) >= e.getValue());
            if (barrier.ends().isEmpty()) {
                it.remove();
                barrier.waiting().forEach(w -> w.complete(null));
            }
        }
    }

    private Set<TopicPartition> lookUpPartitions() {
        Set<TopicPartition> found = new HashSet<>();
        for (String topic : topics) {
            List<PartitionInfo> infos;
            try {
                infos = consumer.partitionsFor(topic, REQUEST_TIMEOUT);
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                infos = List.of();
            }
            if (infos == null || infos.isEmpty()) {
                // Created a moment ago by a process starting beside us, or Kafka is not up yet.
                LOG.info("Waiting for topic {} to exist", topic);
                sleep(500);
                return Set.of();
            }
            infos.forEach(i -> found.add(new TopicPartition(i.topic(), i.partition())));
        }
        return found;
    }

    private void failAll(Throwable cause) {
        barriers.forEach(b -> b.waiting().forEach(w -> w.completeExceptionally(cause)));
        for (CompletableFuture<Void> r; (r = syncRequests.poll()) != null; ) {
            r.completeExceptionally(cause);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
