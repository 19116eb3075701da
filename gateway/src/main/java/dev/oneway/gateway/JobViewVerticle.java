package dev.oneway.gateway;

import dev.oneway.common.JobEvent;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the events topic from the beginning and folds every event into the {@link JobView}, so any
 * gateway answers for any job and a restarted one loses nothing. Events that change a job are then
 * published on a local event-bus address for the WebSocket fan-out.
 *
 * <p>Deployment completes once the view has replayed every event that existed when it started.
 */
final class JobViewVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(JobViewVerticle.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final long RETRY_DELAY_MS = 1000;
    private static final int PARTITION_LOOKUPS = 20;

    private final OnewayConfig config;
    private final JobView view;
    private final String clientId;
    private final String fanOutAddress;
    private final Promise<Void> caughtUp = Promise.promise();
    private KafkaConsumer<String, String> consumer;
    /** Partitions still replaying, with the end offset they had at start. */
    private Map<TopicPartition, Long> replaying;
    private boolean stopped;

    JobViewVerticle(OnewayConfig config, JobView view, String clientId, String fanOutAddress) {
        this.config = config;
        this.view = view;
        this.clientId = clientId;
        this.fanOutAddress = fanOutAddress;
    }

    @Override
    public Future<?> start() {
        consumer = KafkaConsumer.create(vertx, KafkaClients.viewConsumer(config, clientId));
        String topic = config.get(Setting.EVENTS_TOPIC);
        return partitionsOf(topic, PARTITION_LOOKUPS)
                .compose(partitions -> consumer.assign(partitions)
                        .compose(v -> consumer.seekToBeginning(partitions))
                        .compose(v -> consumer.endOffsets(partitions)))
                .compose(ends -> {
                    replaying = new HashMap<>(ends);
                    replaying.values().removeIf(end -> end == 0);
                    log.info("replaying job events from {} ({} partitions)", topic, ends.size());
                    poll();
                    return caughtUp.future();
                })
                .onFailure(err -> {
                    stopped = true;
                    consumer.close();
                });
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        return consumer.close();
    }

    /** Right after the topic is created its metadata may not list partitions yet. */
    private Future<Set<TopicPartition>> partitionsOf(String topic, int attemptsLeft) {
        return consumer.partitionsFor(topic).compose(infos -> {
            if (infos != null && !infos.isEmpty()) {
                return Future.succeededFuture(infos.stream()
                        .map(info -> new TopicPartition(topic, info.getPartition()))
                        .collect(Collectors.toSet()));
            }
            if (attemptsLeft <= 1) {
                return Future.failedFuture("events topic '" + topic + "' has no partitions");
            }
            return vertx.timer(RETRY_DELAY_MS / 4).compose(v -> partitionsOf(topic, attemptsLeft - 1));
        });
    }

    private void poll() {
        if (stopped) {
            return;
        }
        consumer.poll(POLL_TIMEOUT)
                .compose(records -> {
                    fold(records);
                    return checkCaughtUp();
                })
                .onComplete(v -> poll(), err -> {
                    log.warn("reading job events failed, retrying: {}", err.toString());
                    vertx.setTimer(RETRY_DELAY_MS, t -> poll());
                });
    }

    private void fold(KafkaConsumerRecords<String, String> records) {
        for (int i = 0; i < records.size(); i++) {
            KafkaConsumerRecord<String, String> record = records.recordAt(i);
            JobEvent event;
            try {
                event = JobEvent.fromJson(new JsonObject(record.value()));
            } catch (RuntimeException e) {
                log.warn("skipping unreadable job event at {}-{}@{}: {}",
                        record.topic(), record.partition(), record.offset(), e.toString());
                continue;
            }
            // History replayed at start has no audience: WebSocket clients connect only once caught up.
            if (view.apply(event) && view.caughtUp()) {
                vertx.eventBus().publish(fanOutAddress, event.toJson());
            }
        }
    }

    private Future<Void> checkCaughtUp() {
        if (view.caughtUp()) {
            return Future.succeededFuture();
        }
        List<Future<Long>> positions = replaying.keySet().stream()
                .map(partition -> consumer.position(partition).onSuccess(position -> {
                    if (position >= replaying.get(partition)) {
                        replaying.remove(partition);
                    }
                }))
                .toList();
        return Future.all(positions).map(all -> {
            if (replaying.isEmpty()) {
                view.markCaughtUp();
                log.info("job view caught up: {} jobs", view.size());
                caughtUp.tryComplete();
            }
            return null;
        });
    }
}
