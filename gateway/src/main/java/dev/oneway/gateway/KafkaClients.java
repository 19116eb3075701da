package dev.oneway.gateway;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The gateway's Kafka client settings, in one place. */
final class KafkaClients {

    private KafkaClients() { }

    static Map<String, String> producer(OnewayConfig config, String clientId) {
        String deadline = config.get(Setting.KAFKA_ACK_TIMEOUT_MS);
        return Map.of(
                "bootstrap.servers", config.get(Setting.KAFKA_BOOTSTRAP),
                "client.id", clientId,
                "key.serializer", StringSerializer.class.getName(),
                "value.serializer", StringSerializer.class.getName(),
                "acks", "all",
                "enable.idempotence", "true",
                // Kafka gives up at the API's deadline instead of retrying for two minutes, so a job
                // answered 503 is seldom written afterwards (and is marked not accepted when it is).
                "linger.ms", "0",
                "request.timeout.ms", deadline,
                "delivery.timeout.ms", deadline,
                "max.block.ms", deadline);
    }

    /** No consumer group: every gateway reads the whole events topic from the beginning to rebuild its view. */
    static Map<String, String> viewConsumer(OnewayConfig config, String clientId) {
        return Map.of(
                "bootstrap.servers", config.get(Setting.KAFKA_BOOTSTRAP),
                "client.id", clientId,
                "key.deserializer", StringDeserializer.class.getName(),
                "value.deserializer", StringDeserializer.class.getName(),
                "enable.auto.commit", "false",
                "auto.offset.reset", "earliest",
                "isolation.level", "read_committed",
                "allow.auto.create.topics", "false");
    }

    static Admin admin(OnewayConfig config, String clientId) {
        return Admin.create(Map.of(
                "bootstrap.servers", config.get(Setting.KAFKA_BOOTSTRAP),
                "client.id", clientId));
    }

    /**
     * Creates the jobs and events topics where they are missing, with ONEWAY_JOBS_PARTITIONS partitions
     * and the broker's default replication, so a fresh cluster does not get single-partition topics
     * auto-created by the first record.
     */
    static Future<Void> ensureTopics(Admin admin, OnewayConfig config, Context context) {
        List<String> wanted = List.of(config.get(Setting.JOBS_TOPIC), config.get(Setting.EVENTS_TOPIC));
        Optional<Integer> partitions = Optional.of(config.getInt(Setting.JOBS_PARTITIONS));
        return Future.fromCompletionStage(admin.listTopics().names().toCompletionStage(), context).compose(existing -> {
            List<NewTopic> missing = wanted.stream()
                    .filter(topic -> !existing.contains(topic))
                    .map(topic -> new NewTopic(topic, partitions, Optional.empty()))
                    .toList();
            return missing.isEmpty() ? Future.<Void>succeededFuture()
                    : Future.fromCompletionStage(admin.createTopics(missing).all().toCompletionStage(), context);
        }).recover(err -> causedBy(err, TopicExistsException.class)
                ? Future.succeededFuture() // another gateway or worker created it meanwhile
                : Future.failedFuture(err));
    }

    private static boolean causedBy(Throwable err, Class<? extends Throwable> type) {
        for (Throwable t = err; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
