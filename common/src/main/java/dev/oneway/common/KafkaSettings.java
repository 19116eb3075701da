package dev.oneway.common;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Kafka client settings gateway and worker share, in one place. Records are JSON text keyed by
 * job id; each caller adds only what is its own (the gateway's 503 deadline, the worker's poll size).
 */
public final class KafkaSettings {
    private KafkaSettings() { }

    /** acks=all with idempotence: an acknowledged record is on the log exactly once. */
    public static Map<String, Object> producer(OnewayConfig config, String clientId) {
        Map<String, Object> p = base(config, clientId);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        return p;
    }

    /** No consumer group: reads the whole events topic from the beginning (a gateway's view, a worker's cancel list). */
    public static Map<String, Object> eventsReader(OnewayConfig config, String clientId) {
        Map<String, Object> p = consumer(config, clientId);
        p.put("isolation.level", "read_committed");
        return p;
    }

    /** A member of the consumer group of one model's workers, committing offsets itself. */
    public static Map<String, Object> groupConsumer(OnewayConfig config, String model, String clientId) {
        Map<String, Object> p = consumer(config, clientId);
        p.put("group.id", Topics.consumerGroup(config, model));
        // A worker joining or leaving moves only the partitions that change hands; the others keep running.
        p.put("partition.assignment.strategy", CooperativeStickyAssignor.class.getName());
        // A killed worker's partitions move to the others once its session expires; heartbeats stay well inside it.
        int session = config.getInt(Setting.KAFKA_SESSION_TIMEOUT_MS);
        p.put("session.timeout.ms", String.valueOf(session));
        p.put("heartbeat.interval.ms", String.valueOf(Math.max(100, Math.min(3000, session / 3))));
        return p;
    }

    /** For topic creation, readiness probes and the queue-lag measurement. */
    public static Map<String, Object> admin(OnewayConfig config, String clientId) {
        return base(config, clientId);
    }

    private static Map<String, Object> consumer(OnewayConfig config, String clientId) {
        Map<String, Object> p = base(config, clientId);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.put("allow.auto.create.topics", "false");
        // Each idle fetch costs the broker and the client CPU; a record that arrives ends the wait at once. (A read
        // barrier once waited this out: it asked its end offsets behind the waiting fetch; see LogFollower.)
        p.put("fetch.max.wait.ms", config.get(Setting.KAFKA_FETCH_MAX_WAIT_MS));
        return p;
    }

    private static Map<String, Object> base(OnewayConfig config, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", config.get(Setting.KAFKA_BOOTSTRAP));
        p.put("client.id", clientId);
        return p;
    }
}
