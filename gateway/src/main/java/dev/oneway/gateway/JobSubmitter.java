package dev.oneway.gateway;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes jobs and the gateway's own events to Kafka and answers only once Kafka has them durably. */
final class JobSubmitter {

    /** Error code of a job Kafka did not acknowledge in time; its client was answered 503. */
    static final String NOT_ACCEPTED = "not_accepted";

    private static final Logger log = LoggerFactory.getLogger(JobSubmitter.class);

    private final KafkaProducer<String, String> producer;
    private final String jobsTopic;
    private final String eventsTopic;
    private final long deadlineMs;

    JobSubmitter(Vertx vertx, OnewayConfig config, String clientId) {
        this.producer = KafkaProducer.create(vertx, KafkaClients.producer(config, clientId));
        this.producer.exceptionHandler(err -> log.debug("Kafka send failed", err));
        this.jobsTopic = config.get(Setting.JOBS_TOPIC);
        this.eventsTopic = config.get(Setting.EVENTS_TOPIC);
        this.deadlineMs = config.getInt(Setting.KAFKA_ACK_TIMEOUT_MS);
    }

    /**
     * The queued event goes first and the job second: a worker can only see a job whose queued event is
     * already durable, so on the job's partition of the events topic queued always precedes started.
     * When either write is not acknowledged in time the job is not accepted: a failed event marks it so,
     * in case the queued event (or even the job) was written after all.
     */
    Future<Void> submit(JobRequest job) {
        boolean[] abandoned = {false};
        return send(eventsTopic, job.id(), JobEvent.queued(job).toJson())
                .compose(v -> abandoned[0]
                        ? Future.<Void>failedFuture("queued event acknowledged after the deadline")
                        : send(jobsTopic, job.id(), job.toJson()))
                .timeout(deadlineMs, TimeUnit.MILLISECONDS)
                .recover(err -> {
                    abandoned[0] = true;
                    try (JobLogContext ignored = JobLogContext.of(job)) {
                        withdraw(job);
                        return Future.failedFuture(kafkaUnavailable(err, "the job was not accepted"));
                    }
                });
    }

    /** Publishes an event (a cancellation) and completes once Kafka has it. */
    Future<Void> publish(JobEvent event) {
        return send(eventsTopic, event.id(), event.toJson())
                .timeout(deadlineMs, TimeUnit.MILLISECONDS)
                .recover(err -> {
                    try (JobLogContext ignored = JobLogContext.of(event.id(), event.tenant())) {
                        return Future.failedFuture(kafkaUnavailable(err, "nothing was changed"));
                    }
                });
    }

    Future<Void> close() {
        return producer.close();
    }

    private void withdraw(JobRequest job) {
        ErrorInfo reason = new ErrorInfo(NOT_ACCEPTED,
                "Kafka did not acknowledge the job within " + deadlineMs + " ms; it was not accepted");
        send(eventsTopic, job.id(), JobEvent.failed(job, reason).toJson()).onFailure(err -> {
            try (JobLogContext ignored = JobLogContext.of(job)) {
                log.warn("could not mark unaccepted job {} as failed: {}", job.id(), err.toString());
            }
        });
    }

    private Future<Void> send(String topic, String key, JsonObject value) {
        return producer.send(KafkaProducerRecord.create(topic, key, value.encode())).mapEmpty();
    }

    private ApiError kafkaUnavailable(Throwable cause, String consequence) {
        log.warn("Kafka did not acknowledge a write within {} ms: {}", deadlineMs, cause.toString());
        return ApiError.unavailable("kafka_unavailable",
                "the job queue did not acknowledge the request in time; " + consequence + ", retry later", 5);
    }
}
