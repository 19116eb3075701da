package dev.oneway.standalone.faults;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/** The jobs and events topics read whole with a plain consumer (no group), as an auditor would. */
final class TopicAudit {

    /** An event on the events topic. */
    record Event(String id, String type, Instant at, JsonObject json) { }

    /** A job record on the jobs topic; {@code attempt} is its oneway-attempt header, null on a first record. */
    record JobRecord(String id, String attempt, JsonObject json) { }

    final Map<String, List<Event>> eventsById = new HashMap<>();
    final Map<String, List<JobRecord>> jobRecordsById = new HashMap<>();

    static TopicAudit read(String bootstrap) {
        TopicAudit audit = new TopicAudit();
        for (ConsumerRecord<String, String> r : readAll(bootstrap, Deployment.EVENTS_TOPIC)) {
            try {
                JsonObject json = new JsonObject(r.value());
                String id = json.getString("id", r.key());
                audit.eventsById.computeIfAbsent(id, k -> new ArrayList<>())
                        .add(new Event(id, json.getString("type"), Instant.parse(json.getString("at")), json));
            } catch (RuntimeException e) {
                audit.eventsById.computeIfAbsent(String.valueOf(r.key()), k -> new ArrayList<>())
                        .add(new Event(r.key(), "unreadable", Instant.ofEpochMilli(r.timestamp()), new JsonObject()));
            }
        }
        for (ConsumerRecord<String, String> r : readAll(bootstrap, Deployment.JOBS_TOPIC)) {
            Header attempt = r.headers().lastHeader("oneway-attempt");
            JsonObject json;
            try {
                json = new JsonObject(r.value());
            } catch (RuntimeException e) {
                json = new JsonObject();
            }
            audit.jobRecordsById.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(new JobRecord(r.key(),
                    attempt == null ? null : new String(attempt.value(), StandardCharsets.UTF_8), json));
        }
        return audit;
    }

    List<Event> events(String id) {
        return eventsById.getOrDefault(id, List.of());
    }

    List<Event> terminalEvents(String id) {
        return events(id).stream().filter(e -> EventSockets.TERMINAL.contains(e.type())).toList();
    }

    long count(String id, String type) {
        return events(id).stream().filter(e -> type.equals(e.type())).count();
    }

    /** Job records of this id that are not a worker's retry (no oneway-attempt header). */
    long firstRecords(String id) {
        return jobRecordsById.getOrDefault(id, List.of()).stream().filter(r -> r.attempt() == null).count();
    }

    private static List<ConsumerRecord<String, String>> readAll(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end within 60 s");
                }
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }
}
