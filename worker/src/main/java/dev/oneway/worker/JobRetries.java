package dev.oneway.worker;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.EventType;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaWriteStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Where a job goes after a failed attempt (an engine error, an upload that never got through): back onto
 * the jobs topic with its attempt number in a header while it has attempts left, else onto the dead-letter
 * topic. The count travels in the record, so it survives worker restarts and moves between workers.
 */
final class JobRetries {

    static final String ATTEMPT_HEADER = "oneway-attempt";
    static final String ERROR_CODE_HEADER = "oneway-error-code";
    static final String ERROR_MESSAGE_HEADER = "oneway-error-message";
    /** The code of the job.failed event a dead-lettered job's owner receives. */
    static final String ATTEMPTS_EXHAUSTED = "attempts_exhausted";

    private final KafkaWriteStream<String, String> producer;
    private final String jobsTopic;
    private final String deadLetterTopic;
    private final int maxAttempts;

    /** @param jobsTopic the jobs topic of the model whose failed attempts go back to it */
    JobRetries(Vertx vertx, OnewayConfig config, String jobsTopic, String clientId) {
        this.producer = KafkaWriteStream.create(vertx, KafkaSettings.producer(config, clientId));
        this.jobsTopic = jobsTopic;
        this.deadLetterTopic = config.get(Setting.DEAD_LETTER_TOPIC);
        this.maxAttempts = config.getInt(Setting.MAX_ATTEMPTS);
    }

    /** The attempt a consumed job record is: 1 for a job as the gateway wrote it. */
    static int attemptOf(ConsumerRecord<?, ?> record) {
        Header header = record.headers().lastHeader(ATTEMPT_HEADER);
        if (header == null) {
            return 1;
        }
        try {
            return Math.max(1, Integer.parseInt(new String(header.value(), StandardCharsets.UTF_8)));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    int maxAttempts() {
        return maxAttempts;
    }

    boolean hasAttemptsLeft(int failedAttempt) {
        return failedAttempt < maxAttempts;
    }

    /** Queues the job again as attempt {@code failedAttempt + 1}; completes once Kafka has it. */
    Future<Void> requeue(JobRequest job, int failedAttempt, ErrorInfo error) {
        return send(jobsTopic, job, failedAttempt + 1, error);
    }

    /** Sets the job aside on the dead-letter topic, with the attempts it had and its last error. */
    Future<Void> deadLetter(JobRequest job, int attempts, ErrorInfo error) {
        return send(deadLetterTopic, job, attempts, error);
    }

    /** What the owner of a dead-lettered job is told. */
    static ErrorInfo exhausted(int attempts, ErrorInfo last) {
        return new ErrorInfo(ATTEMPTS_EXHAUSTED, "the job failed " + attempts + " attempt" + (attempts == 1 ? "" : "s")
                + " and was set aside; last error (" + last.code() + "): " + last.message());
    }

    /** Sets an unreadable record aside on the dead-letter topic exactly as it came (key and raw value). */
    Future<Void> deadLetterRaw(ConsumerRecord<String, String> record, ErrorInfo error) {
        List<Header> headers = List.of(
                header(ATTEMPT_HEADER, String.valueOf(attemptOf(record))),
                header(ERROR_CODE_HEADER, error.code()),
                header(ERROR_MESSAGE_HEADER, error.message()));
        return producer.send(new ProducerRecord<>(deadLetterTopic, null, record.key(), record.value(), headers)).mapEmpty();
    }

    /** The job.failed event for an unreadable record, when its id and tenant can still be read; else null. */
    static JobEvent failedEventFor(ConsumerRecord<String, String> record, ErrorInfo error) {
        String id = record.key();
        String tenant = null;
        try {
            JsonObject json = new JsonObject(record.value());
            id = json.getValue("id") instanceof String s ? s : id;
            tenant = json.getValue("tenant") instanceof String s ? s : null;
        } catch (RuntimeException e) {
            // not JSON at all: nobody can be told
        }
        if (id == null || tenant == null) {
            return null;
        }
        return new JobEvent(EventType.FAILED, id, tenant, Instant.now(), null, null, null, null, null, error);
    }

    Future<Void> close() {
        return producer.close();
    }

    private Future<Void> send(String topic, JobRequest job, int attempt, ErrorInfo error) {
        List<Header> headers = List.of(
                header(ATTEMPT_HEADER, String.valueOf(attempt)),
                header(ERROR_CODE_HEADER, error.code()),
                header(ERROR_MESSAGE_HEADER, error.message()));
        return producer.send(new ProducerRecord<>(topic, null, job.id(), job.toJson().encode(), headers)).mapEmpty();
    }

    private static Header header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
