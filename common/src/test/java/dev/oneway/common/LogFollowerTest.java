package dev.oneway.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.embedded.EmbeddedKafka;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read barrier against a real broker, with the follower's fetches told to wait at the broker far longer than any
 * barrier may take: a barrier that asked its end offsets behind such a fetch (on the same connection) waited it out.
 */
class LogFollowerTest {

    private static final String TOPIC = "events";
    /** Longer than the test's bound on a barrier, so a barrier that waits out a fetch fails it. */
    private static final int FETCH_WAIT_MS = 15_000;
    private static final long BARRIER_BOUND_MS = 5_000;

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() {
        kafka = new EmbeddedKafka(dir).start();
        kafka.createTopic(TOPIC, 3);
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void aBarrierDoesNotWaitOutAFetchWaitingAtTheBrokerWhetherOrNotRecordsArrived() throws Exception {
        Map<String, Object> properties = new HashMap<>();
        properties.put("bootstrap.servers", kafka.bootstrapServers());
        properties.put("client.id", "follower-test");
        properties.put("key.deserializer", StringDeserializer.class.getName());
        properties.put("value.deserializer", StringDeserializer.class.getName());
        properties.put("isolation.level", "read_committed");
        properties.put("fetch.max.wait.ms", String.valueOf(FETCH_WAIT_MS));
        properties.put("request.timeout.ms", String.valueOf(2 * FETCH_WAIT_MS));
        List<String> seen = new CopyOnWriteArrayList<>();
        Map<String, Object> producerProperties = Map.of("bootstrap.servers", kafka.bootstrapServers(), "acks", "all",
                "key.serializer", StringSerializer.class.getName(), "value.serializer", StringSerializer.class.getName());
        try (LogFollower follower = new LogFollower(properties, List.of(TOPIC), "follower-test", (ConsumerRecord<String, String> r) -> seen.add(r.value()));
             KafkaProducer<String, String> producer = new KafkaProducer<>(producerProperties)) {
            follower.start().get(60, TimeUnit.SECONDS);
            for (int i = 0; i < 3; i++) {
                Thread.sleep(500); // the follower's fetch now waits at the broker for records
                long idle = System.nanoTime();
                follower.sync().get(2 * FETCH_WAIT_MS, TimeUnit.MILLISECONDS);
                long idleMs = (System.nanoTime() - idle) / 1_000_000;
                assertTrue(idleMs < BARRIER_BOUND_MS, "a barrier on an idle log took " + idleMs + " ms");

                Thread.sleep(500);
                producer.send(new ProducerRecord<>(TOPIC, "job-" + i, "event-" + i)).get(30, TimeUnit.SECONDS);
                long written = System.nanoTime();
                follower.sync().get(2 * FETCH_WAIT_MS, TimeUnit.MILLISECONDS);
                long writtenMs = (System.nanoTime() - written) / 1_000_000;
                assertTrue(seen.contains("event-" + i), "the barrier completed before the acknowledged record was read");
                assertTrue(writtenMs < BARRIER_BOUND_MS, "a barrier after a write took " + writtenMs + " ms");
            }
            assertEquals(List.of("event-0", "event-1", "event-2"), seen.stream().sorted().toList());
        }
    }
}
