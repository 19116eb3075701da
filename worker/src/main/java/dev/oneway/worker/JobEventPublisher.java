package dev.oneway.worker;

import dev.oneway.common.JobEvent;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaWriteStream;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes job events to the events topic, keyed by job id so each job's events stay in order on one
 * partition. acks=all with idempotence: an acknowledged event is on the log exactly once.
 */
final class JobEventPublisher {

    private final KafkaWriteStream<String, String> producer;
    private final String topic;

    JobEventPublisher(Vertx vertx, OnewayConfig config, String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.get(Setting.KAFKA_BOOTSTRAP));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
        this.producer = KafkaWriteStream.create(vertx, p, new StringSerializer(), new StringSerializer());
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
