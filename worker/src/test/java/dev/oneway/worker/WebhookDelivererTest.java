package dev.oneway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.oneway.common.EventType;
import dev.oneway.common.ImageResult;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.embedded.EmbeddedKafka;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook deliverer against a real broker and a real HTTP receiver: terminal events are written to the events
 * topic as a worker writes them, and what the deliverer did is read back from the receiver and the topic.
 */
class WebhookDelivererTest {

    @TempDir
    static Path dataDir;
    static EmbeddedKafka kafka;

    Vertx vertx;
    OnewayConfig config;
    KafkaProducer<String, String> producer;
    HttpServer receiver;
    final List<String> webhookIds = new CopyOnWriteArrayList<>();
    final AtomicInteger answer = new AtomicInteger(200);

    @BeforeAll
    static void startKafka() {
        kafka = new EmbeddedKafka(dataDir).start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @BeforeEach
    void start() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        config = OnewayConfig.from(Map.of())
                .with(Setting.KAFKA_BOOTSTRAP, kafka.bootstrapServers())
                .with(Setting.EVENTS_TOPIC, "events-" + run)
                .with(Setting.CONSUMER_GROUP, "workers-" + run)
                .with(Setting.API_KEYS, "alpha:key-alpha");
        kafka.createTopic(config.get(Setting.EVENTS_TOPIC), 2);
        vertx = Vertx.vertx();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            webhookIds.add(exchange.getRequestHeaders().getFirst("webhook-id"));
            exchange.sendResponseHeaders(answer.get(), -1);
            exchange.close();
        });
        receiver.start();
    }

    @AfterEach
    void stop() {
        receiver.stop(0);
        producer.close();
        await(vertx.close());
    }

    String url() {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
    }

    JobRequest jobWithWebhook() {
        return new JobRequest(UUID.randomUUID().toString(), "alpha", "a fox", 1, 64, 64, 4, "tiue", Instant.now(), null,
                JobRequest.DEFAULT_DECODER, false, url());
    }

    void write(JobEvent event) throws Exception {
        producer.send(new ProducerRecord<>(config.get(Setting.EVENTS_TOPIC), event.id(), event.toJson().encode()))
                .get(10, TimeUnit.SECONDS);
    }

    String deploy(OnewayConfig settings) {
        return await(vertx.deployVerticle(new WebhookDeliverer(settings, "deliverer-" + UUID.randomUUID())));
    }

    @Test
    void aWebhookThatResolvesToAPrivateAddressAtSendTimeIsNotCalledAndTheRefusalIsRecorded() throws Exception {
        deploy(config); // ONEWAY_WEBHOOK_ALLOW_PRIVATE is false unless set
        JobRequest job = jobWithWebhook();
        write(JobEvent.started(job, 1));
        write(JobEvent.succeeded(job, 1, new JsonObject(), new ImageResult("b", "k", "image/png", 64, 64, 10))
                .withWebhookOf(job));

        JsonObject outcome = awaitOutcome(job.id());
        assertEquals("failed", outcome.getString("status"));
        assertEquals(1, outcome.getInteger("attempts"));
        assertTrue(outcome.getString("error").contains("127.0.0.1"), outcome.encode());
        assertTrue(outcome.getString("error").contains("loopback, private or link-local"), outcome.encode());
        assertTrue(webhookIds.isEmpty(), "the receiver was never called");
    }

    @Test
    void aDeliveryCutShortByAStopIsSentAgainByTheNextDelivererUnderTheSameWebhookId() throws Exception {
        OnewayConfig allowed = config.with(Setting.WEBHOOK_ALLOW_PRIVATE, true);
        answer.set(503);
        String first = deploy(allowed);
        JobRequest job = jobWithWebhook();
        JobRequest without = new JobRequest(UUID.randomUUID().toString(), "alpha", "no hook", 1, 64, 64, 4, "tiue",
                Instant.now());
        write(JobEvent.canceled(without.id(), "alpha").withWebhookOf(without));
        write(JobEvent.canceled(job.id(), "alpha").withWebhookOf(job));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (webhookIds.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(!webhookIds.isEmpty(), "the first deliverer tried");
        await(vertx.undeploy(first)); // stops mid-retry: nothing recorded, the offset stays uncommitted

        answer.set(200);
        int triedBefore = webhookIds.size();
        deploy(allowed);
        JsonObject outcome = awaitOutcome(job.id());
        assertEquals("delivered", outcome.getString("status"));
        assertEquals(200, outcome.getInteger("lastStatus"));
        assertTrue(webhookIds.size() > triedBefore, "the next deliverer sent it again");
        assertEquals(List.of("msg_" + job.id()), webhookIds.stream().distinct().toList(), "one webhook-id throughout");
        assertEquals(List.of(job.id()), outcomes().stream().map(e -> e.id()).distinct().toList(),
                "a job without a webhook gets no delivery");
    }

    JsonObject awaitOutcome(String id) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (JobEvent e : outcomes()) {
                if (e.id().equals(id)) {
                    return e.webhook();
                }
            }
        }
        throw new AssertionError("no job.webhook event for " + id);
    }

    List<JobEvent> outcomes() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = List.of(new TopicPartition(config.get(Setting.EVENTS_TOPIC), 0),
                    new TopicPartition(config.get(Setting.EVENTS_TOPIC), 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<JobEvent> found = new ArrayList<>();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    JobEvent e = JobEvent.fromJson(new JsonObject(r.value()));
                    if (e.type() == EventType.WEBHOOK) {
                        found.add(e);
                    }
                });
            }
            return found;
        }
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
