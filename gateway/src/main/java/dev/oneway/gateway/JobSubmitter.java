package dev.oneway.gateway;

import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes job records and the gateway's own events (cancellations) to Kafka and answers once Kafka has them durably. */
final class JobSubmitter {

    private static final Logger log = LoggerFactory.getLogger(JobSubmitter.class);

    private final KafkaProducer<String, String> producer;
    private final OnewayConfig config;
    private final String eventsTopic;
    private final long deadlineMs;

    JobSubmitter(Vertx vertx, OnewayConfig config, String clientId) {
        this.producer = KafkaProducer.create(vertx, KafkaClients.producer(config, clientId));
        this.producer.exceptionHandler(err -> log.debug("Kafka send failed", err));
        this.config = config;
        this.eventsTopic = config.get(Setting.EVENTS_TOPIC);
        this.deadlineMs = config.getInt(Setting.KAFKA_ACK_TIMEOUT_MS);
    }

    /**
     * The job's one write: its record on its model's jobs topic. Acknowledged (acks=all) means accepted, and everything
     * else (the queued state, the WebSocket frame, a worker picking it up) is derived from that record. There is no
     * second write that could be half done and nothing to withdraw. When Kafka does not acknowledge in time the
     * client hears 503; the record may still land, so a client that must know retries with its Idempotency-Key.
     */
    Future<Void> submit(JobRequest job) {
        String model = job.model() != null ? job.model() : config.defaultModel();
        return send(Topics.jobs(config, model), job.id(), job.toJson()).recover(err -> {
            try (JobLogContext ignored = JobLogContext.of(job)) {
                return Future.failedFuture(kafkaUnavailable(err, "the job may not have been accepted"));
            }
        });
    }

    /** Publishes an event (a cancellation) and completes once Kafka has it. */
    Future<Void> publish(JobEvent event) {
        return send(eventsTopic, event.id(), event.toJson()).recover(err -> {
            try (JobLogContext ignored = JobLogContext.of(event.id(), event.tenant())) {
                return Future.failedFuture(kafkaUnavailable(err, "nothing was changed"));
            }
        });
    }

    Future<Void> close() {
        return producer.close();
    }

    private Future<Void> send(String topic, String key, JsonObject value) {
        return producer.send(KafkaProducerRecord.create(topic, key, value.encode()))
                .timeout(deadlineMs, TimeUnit.MILLISECONDS)
                .mapEmpty();
    }

    private ApiError kafkaUnavailable(Throwable cause, String consequence) {
        log.warn("Kafka did not acknowledge a write within {} ms: {}", deadlineMs, cause.toString());
        return ApiError.unavailable("kafka_unavailable", "the job queue did not acknowledge the request in time; "
                + consequence + "; retry later (with the same Idempotency-Key to be safe)", 5);
    }
}
