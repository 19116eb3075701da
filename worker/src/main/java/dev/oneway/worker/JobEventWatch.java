package dev.oneway.worker;

import dev.oneway.common.EventType;
import dev.oneway.common.JobEvent;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaReadStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's reading of the events topic: which jobs were canceled and which already have a terminal
 * event. It reads every partition from the beginning without a consumer group (each worker needs all of
 * it), and {@link #start()} completes only once it has caught up with the log, so a job canceled while no
 * worker ran is known before the first batch. A canceled job is never started; a redelivered job that
 * already finished is not run twice.
 */
final class JobEventWatch {

    private static final Logger LOG = LoggerFactory.getLogger(JobEventWatch.class);
    private static final int REMEMBERED_IDS = 200_000;
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(60);
    private static final int PARTITION_LOOKUPS = 20;

    private final Vertx vertx;
    private final String topic;
    private final KafkaReadStream<String, String> consumer;
    private final RecentIds canceled = new RecentIds(REMEMBERED_IDS);
    private final RecentIds finished = new RecentIds(REMEMBERED_IDS);
    private final Map<TopicPartition, Long> nextOffset = new HashMap<>();
    private Map<TopicPartition, Long> catchUpTo;
    private final Promise<Void> caughtUp = Promise.promise();

    JobEventWatch(Vertx vertx, OnewayConfig config, String clientId) {
        this.vertx = vertx;
        this.topic = config.get(Setting.EVENTS_TOPIC);
        this.consumer = KafkaReadStream.create(vertx, KafkaSettings.eventsReader(config, clientId));
    }

    /** Starts reading and completes once every event written before this call has been seen. */
    Future<Void> start() {
        // Short polls: the seek and offset requests below queue behind a poll on the consumer's one thread.
        consumer.pollTimeout(Duration.ofMillis(100));
        consumer.handler(this::onRecord);
        consumer.exceptionHandler(e -> LOG.warn("Reading {} failed: {}", topic, e.toString()));
        long timer = vertx.setTimer(CATCH_UP_TIMEOUT.toMillis(), id -> caughtUp.tryFail(
                "the events topic " + topic + " could not be read to its end within " + CATCH_UP_TIMEOUT.toSeconds() + " s"));
        return partitionsOf(topic, PARTITION_LOOKUPS)
                .compose(partitions -> consumer.assign(partitions)
                        .compose(v -> consumer.seekToBeginning(partitions))
                        .compose(v -> consumer.beginningOffsets(partitions))
                        .compose(begins -> consumer.endOffsets(partitions).map(ends -> nonEmpty(begins, ends))))
                .compose(ends -> {
                    catchUpTo = ends;
                    checkCaughtUp();
                    return caughtUp.future();
                })
                .onComplete(ar -> vertx.cancelTimer(timer));
    }

    boolean isCanceled(String jobId) {
        return canceled.contains(jobId);
    }

    /** Whether the job has a terminal event (succeeded, failed or canceled) on the log. */
    boolean isFinished(String jobId) {
        return finished.contains(jobId);
    }

    /** Records a terminal event this worker wrote, without waiting to read it back. */
    void markFinished(String jobId) {
        finished.add(jobId);
    }

    Future<Void> close() {
        return consumer.close();
    }

    /** A topic created a moment ago (by a gateway starting beside us) may take a while to show in metadata. */
    private Future<Set<TopicPartition>> partitionsOf(String name, int lookupsLeft) {
        return consumer.partitionsFor(name).compose(infos -> {
            if (infos != null && !infos.isEmpty()) {
                Set<TopicPartition> partitions = new HashSet<>();
                infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
                return Future.succeededFuture(partitions);
            }
            if (lookupsLeft <= 1) {
                return Future.failedFuture("the events topic " + name + " does not exist");
            }
            return vertx.timer(500).compose(v -> partitionsOf(name, lookupsLeft - 1));
        });
    }

    /** End offsets of the partitions that hold any record; retention may have emptied a partition whose end is past 0. */
    private static Map<TopicPartition, Long> nonEmpty(Map<TopicPartition, Long> begins, Map<TopicPartition, Long> ends) {
        Map<TopicPartition, Long> result = new HashMap<>();
        ends.forEach((partition, end) -> {
            if (end > begins.getOrDefault(partition, 0L)) {
                result.put(partition, end);
            }
        });
        return result;
    }

    private void onRecord(ConsumerRecord<String, String> record) {
        nextOffset.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
        try {
            JobEvent event = JobEvent.fromJson(new JsonObject(record.value()));
            if (event.status().terminal()) {
                finished.add(event.id());
            }
            if (event.type() == EventType.CANCELED) {
                canceled.add(event.id());
            }
        } catch (RuntimeException e) {
            LOG.warn("Ignoring an unreadable record at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), e.toString());
        }
        checkCaughtUp();
    }

    private void checkCaughtUp() {
        if (catchUpTo == null || caughtUp.future().isComplete()) {
            return;
        }
        boolean done = catchUpTo.entrySet().stream()
                .allMatch(e -> nextOffset.getOrDefault(e.getKey(), 0L) >= e.getValue());
        if (done) {
            caughtUp.tryComplete();
        }
    }
}
