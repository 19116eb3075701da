package dev.oneway.gateway;

import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** The gateway's Kafka client settings, in one place. */
final class KafkaClients {

    private KafkaClients() { }

    static Map<String, String> producer(OnewayConfig config, String clientId) {
        String deadline = config.get(Setting.KAFKA_ACK_TIMEOUT_MS);
        Map<String, Object> p = KafkaSettings.producer(config, clientId);
        // Kafka gives up at the API's deadline instead of retrying for two minutes, so a job
        // answered 503 is seldom written afterwards (a retry with its Idempotency-Key finds it when it is).
        p.put("linger.ms", "0");
        p.put("request.timeout.ms", deadline);
        p.put("delivery.timeout.ms", deadline);
        p.put("max.block.ms", deadline);
        return asStrings(p);
    }

    private static Map<String, String> asStrings(Map<String, Object> settings) {
        Map<String, String> out = new HashMap<>();
        settings.forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    static Admin admin(OnewayConfig config, String clientId) {
        return Admin.create(KafkaSettings.admin(config, clientId));
    }

    /**
     * Creates the jobs, events and dead-letter topics where they are missing, with ONEWAY_JOBS_PARTITIONS partitions
     * and the broker's default replication, so a fresh cluster does not get single-partition topics
     * auto-created by the first record.
     */
    static Future<Void> ensureTopics(Admin admin, OnewayConfig config, Context context) {
        List<String> wanted = Topics.all(config);
        Optional<Integer> partitions = Optional.of(config.getInt(Setting.JOBS_PARTITIONS));
        return Future.fromCompletionStage(admin.listTopics().names().toCompletionStage(), context).compose(existing -> {
            List<NewTopic> missing = wanted.stream()
                    .filter(topic -> !existing.contains(topic))
                    .map(topic -> new NewTopic(topic, partitions, Optional.empty()).configs(Topics.configs(config, topic)))
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
