package dev.oneway.worker;

import dev.oneway.common.KafkaSettings;
import dev.oneway.common.ModelAnnouncement;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaWriteStream;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's word on the models topic: "I serve this model, with these limits", renewed every
 * ONEWAY_MODEL_ANNOUNCE_INTERVAL_MS so that gateways count the workers alive (a crashed worker's word expires), and
 * withdrawn with a tombstone when the worker stops on purpose.
 */
final class ModelAnnouncer {

    private static final Logger LOG = LoggerFactory.getLogger(ModelAnnouncer.class);

    private final Vertx vertx;
    private final ServedModel model;
    private final String workerId;
    private final Duration interval;
    private final String topic;
    private final int maxSteps;
    private final KafkaWriteStream<String, String> producer;
    private long timer = -1;

    ModelAnnouncer(Vertx vertx, OnewayConfig config, ServedModel model, String workerId) {
        this.vertx = vertx;
        this.model = model;
        this.workerId = workerId;
        this.interval = Duration.ofMillis(config.getInt(Setting.MODEL_ANNOUNCE_INTERVAL_MS));
        this.topic = config.get(Setting.MODELS_TOPIC);
        this.maxSteps = config.getInt(Setting.MAX_STEPS);
        this.producer = KafkaWriteStream.create(vertx, KafkaSettings.producer(config, workerId + "-announcer"));
    }

    /** Announces now (completes once Kafka has it), then again every interval on {@code context}. */
    Future<Void> start(Context context) {
        return announce().onSuccess(v -> context.runOnContext(x -> timer = vertx.setPeriodic(interval.toMillis(),
                id -> announce().onFailure(e -> LOG.warn("Worker {} could not renew its announcement of {}: {}",
                        workerId, model.name(), e.toString())))));
    }

    /**
     * Withdraws the announcement and closes: the gateways stop counting this worker at once. The model's limits stay
     * known under the model's own key (an announcement already expired), so gateways, also ones started later, go on
     * accepting its jobs for the next worker; then the worker's own key gets a tombstone, which compaction clears.
     */
    Future<Void> stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        Instant now = Instant.now();
        ModelAnnouncement last = model.announcement(workerId, now, Duration.ZERO, maxSteps);
        return producer.send(new ProducerRecord<>(topic, model.name(), last.toJson().encode()))
                .compose(v -> producer.send(new ProducerRecord<>(topic, last.key(), null))).mapEmpty()
                .recover(e -> {
                    LOG.warn("Worker {} could not withdraw its announcement; it expires by itself: {}", workerId, e.toString());
                    return Future.succeededFuture();
                })
                .eventually(producer::close).mapEmpty();
    }

    private Future<Void> announce() {
        ModelAnnouncement a = model.announcement(workerId, Instant.now(), interval, maxSteps);
        return producer.send(new ProducerRecord<>(topic, a.key(), a.toJson().encode())).mapEmpty();
    }
}
