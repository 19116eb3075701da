package dev.oneway.worker;

import dev.oneway.common.JobEvent;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaWriteStream;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes job events to the events topic, keyed by job id so each job's events stay in order on one
 * partition. acks=all with idempotence: an acknowledged event is on the log exactly once.
 */
final class JobEventPublisher {

    private final KafkaWriteStream<String, String> producer;
    private final String topic;

    JobEventPublisher(Vertx vertx, OnewayConfig config, String clientId) {
        Map<String, Object> p = KafkaSettings.producer(config, clientId);
        p.put("linger.ms", "2"); // a batch's events leave together
        this.producer = KafkaWriteStream.create(vertx, p);
        this.topic = config.get(Setting.EVENTS_TOPIC);
    }

    /** Completes when the broker has acknowledged the event. */
    Future<Void> publish(JobEvent event) {
        return producer.send(new ProducerRecord<>(topic, event.id(), event.toJson().encode())).mapEmpty();
    }

    Future<Void> close() {
        return producer.close();
    }
}
