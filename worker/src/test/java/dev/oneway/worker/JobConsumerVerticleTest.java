package dev.oneway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.EventType;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.ModelAnnouncement;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import dev.oneway.embedded.EmbeddedKafka;
import dev.oneway.embedded.EmbeddedS3;
import dev.oneway.engine.EngineOptions;
import dev.oneway.engine.GeneratedImage;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.TiueEngine;
import dev.oneway.engine.tiny.TinyModels;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker against a real broker, a real S3 server and the real engine on the generated tiny model. Jobs are
 * produced the way the gateway produces them; what the worker did is read back from the events topic, the
 * bucket and the group's committed offsets.
 */
class JobConsumerVerticleTest {

    private static final String EXPLODING_PROMPT = "this prompt breaks the engine";

    @TempDir
    static Path dataDir;
    static EmbeddedKafka kafka;
    static EmbeddedS3 s3;
    static TiueEngine tiny;

    /** The model the workers of these tests serve. */
    static final String MODEL = "tiny-sd15";
    /** A model of the deployment that these workers do not serve. */
    static final String OTHER_MODEL = "tiny-sd21";

    Vertx vertx;
    OnewayConfig config;
    KafkaProducer<String, String> producer;
    KafkaConsumer<String, String> events;
    MinioClient minio;
    WorkerMetrics metrics;
    String deployment;

    @BeforeAll
    static void startInfrastructure() {
        kafka = new EmbeddedKafka(dataDir).start();
        s3 = new EmbeddedS3(dataDir, "oneway", "oneway-secret").start();
        tiny = TiueEngine.load(TinyModels.cached(TinyModels.Variant.SD15), new EngineOptions("cpu", "float32"));
    }

    @AfterAll
    static void stopInfrastructure() {
        if (tiny != null) {
            tiny.close();
        }
        s3.close();
        kafka.close();
    }

    @BeforeEach
    void startWorker() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        config = OnewayConfig.from(Map.of())
                .with(Setting.MODELS, MODEL + "=tiny:sd15," + OTHER_MODEL + "=tiny:sd21")
                .with(Setting.MODELS_TOPIC, "models-" + run)
                .with(Setting.KAFKA_BOOTSTRAP, kafka.bootstrapServers())
                .with(Setting.JOBS_TOPIC, "jobs-" + run)
                .with(Setting.EVENTS_TOPIC, "events-" + run)
                .with(Setting.CONSUMER_GROUP, "workers-" + run)
                .with(Setting.DEAD_LETTER_TOPIC, "dead-" + run)
                .with(Setting.S3_ENDPOINT, s3.endpoint())
                .with(Setting.S3_BUCKET, "images-" + run)
                .with(Setting.MAX_BATCH_SIZE, 4)
                .with(Setting.MAX_BATCH_WAIT_MS, 300);
        for (String jobsTopic : Topics.jobs(config)) {
            kafka.createTopic(jobsTopic, 2);
        }
        kafka.createTopic(config.get(Setting.MODELS_TOPIC), 1);
        kafka.createTopic(config.get(Setting.EVENTS_TOPIC), 2);
        kafka.createTopic(config.get(Setting.DEAD_LETTER_TOPIC), 1);
        vertx = Vertx.vertx();
        producer = new KafkaProducer<>(clientProps(), new StringSerializer(), new StringSerializer());
        events = new KafkaConsumer<>(clientProps(), new StringDeserializer(), new StringDeserializer());
        events.assign(List.of(new TopicPartition(config.get(Setting.EVENTS_TOPIC), 0),
                new TopicPartition(config.get(Setting.EVENTS_TOPIC), 1)));
        minio = MinioClient.builder().endpoint(s3.endpoint()).region("us-east-1").credentials("oneway", "oneway-secret").build();
    }

    @AfterEach
    void stopWorker() throws Exception {
        if (deployment != null) {
            await(vertx.undeploy(deployment));
        }
        await(vertx.close());
        producer.close();
        events.close();
    }

    @Test
    void compatibleJobsShareABatchAndEachGetsItsImageAndExactlyOneTerminalEvent() throws Exception {
        deployWorker(ImageEngine.of(tiny));
        ModelDefaults d = tiny.defaults();
        List<JobRequest> jobs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            jobs.add(job("alpha", "a red fox " + i, i, d.sizeMultiple(), d.sizeMultiple()));
        }
        jobs.forEach(this::submit);

        Map<String, List<JobEvent>> byJob = awaitTerminal(jobs);
        for (JobRequest job : jobs) {
            List<EventType> types = byJob.get(job.id()).stream().map(JobEvent::type)
                    .filter(t -> t != EventType.PROGRESS).toList();
            assertEquals(List.of(EventType.STARTED, EventType.SUCCEEDED), types, "events of " + job.id());
            JobEvent succeeded = last(byJob.get(job.id()));
            assertEquals(Topics.imageObjectKey("alpha", job.id()), succeeded.result().objectKey());
            assertEquals("image/png", succeeded.result().contentType());
            byte[] png = download(succeeded.result().objectKey());
            assertEquals(succeeded.result().bytes(), png.length);
            assertEquals(job.width(), ImageIO.read(new ByteArrayInputStream(png)).getWidth());
            assertTrue(succeeded.timings().containsKey("worker"));
        }
        assertTrue(byJob.values().stream().anyMatch(es -> last(es).batchSize() > 1), "at least one batch held more than one job");
        assertTrue(byJob.values().stream().flatMap(List::stream).anyMatch(e -> e.type() == EventType.PROGRESS),
                "engine stages are reported as progress");
        assertCommittedEverything();
    }

    @Test
    void aJobThatKeepsBreakingItsBatchFailsAloneAfterMaxAttemptsAndIsDeadLettered() throws Exception {
        AtomicInteger soloRuns = new AtomicInteger();
        deployWorker(explodingEngine(soloRuns));
        int side = tiny.defaults().sizeMultiple();
        List<JobRequest> jobs = List.of(job("alpha", "a cat", 1, side, side), job("alpha", EXPLODING_PROMPT, 2, side, side),
                job("beta", "a dog", 3, side, side));
        jobs.forEach(this::submit);

        Map<String, List<JobEvent>> byJob = awaitTerminal(jobs);
        JobEvent broken = last(byJob.get(jobs.get(1).id()));
        assertEquals(EventType.FAILED, broken.type());
        assertEquals("attempts_exhausted", broken.error().code());
        assertTrue(broken.error().message().contains("3 attempts"), broken.error().message());
        assertTrue(broken.error().message().contains("engine_error"), broken.error().message());
        assertTrue(broken.error().message().contains("simulated device fault"), broken.error().message());
        assertEquals(3, soloRuns.get(), "the broken job ran alone once per attempt, ONEWAY_MAX_ATTEMPTS times");
        List<EventType> runs = byJob.get(jobs.get(1).id()).stream().map(JobEvent::type)
                .filter(t -> t == EventType.STARTED || t == EventType.RETRYING).toList();
        assertEquals(List.of(EventType.STARTED, EventType.RETRYING, EventType.RETRYING), runs,
                "a retried attempt says job.retrying, not a second job.started");
        assertEquals(EventType.SUCCEEDED, last(byJob.get(jobs.get(0).id())).type());
        assertEquals(EventType.SUCCEEDED, last(byJob.get(jobs.get(2).id())).type());
        assertNoImage(jobs.get(1));

        List<ConsumerRecord<String, String>> dead = readDeadLetters(1);
        assertEquals(jobs.get(1).id(), dead.get(0).key());
        assertEquals(jobs.get(1), JobRequest.fromJson(new JsonObject(dead.get(0).value())));
        assertEquals("3", header(dead.get(0), "oneway-attempt"));
        assertEquals("engine_error", header(dead.get(0), "oneway-error-code"));
        assertCommittedEverything();
    }

    @Test
    void theAttemptCountTravelsWithTheRecordSoARedeliveredLastAttemptIsDeadLetteredAtItsNextFailure() throws Exception {
        AtomicInteger soloRuns = new AtomicInteger();
        int side = tiny.defaults().sizeMultiple();
        JobRequest broken = job("alpha", EXPLODING_PROMPT, 7, side, side);
        // As a worker that died after re-queuing the job for its last attempt left it on the topic.
        producer.send(new ProducerRecord<>(config.get(Setting.EVENTS_TOPIC), broken.id(), JobEvent.queued(broken).toJson().encode())).get();
        producer.send(new ProducerRecord<>(jobsTopic(), null, broken.id(), broken.toJson().encode(),
                List.of(new RecordHeader("oneway-attempt", "3".getBytes(StandardCharsets.UTF_8))))).get();
        deployWorker(explodingEngine(soloRuns));

        JobEvent failed = last(awaitTerminal(List.of(broken)).get(broken.id()));
        assertEquals("attempts_exhausted", failed.error().code());
        assertEquals(1, soloRuns.get(), "no attempt beyond the third");
        assertEquals("3", header(readDeadLetters(1).get(0), "oneway-attempt"));
        assertCommittedEverything();
    }

    @Test
    void aJobWhoseWorkerDiedWhileRunningItRunsAloneAndOneThatDiedOnEveryRunIsSetAside() throws Exception {
        int side = tiny.defaults().sizeMultiple();
        JobRequest interrupted = job("alpha", "its worker was killed", 1, side, side);
        JobRequest killer = job("alpha", "kills its worker every time", 2, side, side);
        List<JobRequest> fresh = List.of(job("alpha", "a fresh job", 3, side, side), job("beta", "another", 4, side, side));
        // What workers that died mid-run leave on the log: the run's start, and no outcome. The killer ran (and took its
        // worker down) ONEWAY_MAX_ATTEMPTS = 3 times.
        String eventsTopic = config.get(Setting.EVENTS_TOPIC);
        producer.send(new ProducerRecord<>(eventsTopic, interrupted.id(), JobEvent.started(interrupted, 4).toJson().encode())).get();
        producer.send(new ProducerRecord<>(eventsTopic, killer.id(), JobEvent.started(killer, 4).toJson().encode())).get();
        producer.send(new ProducerRecord<>(eventsTopic, killer.id(), JobEvent.retrying(killer, 1, 1).toJson().encode())).get();
        producer.send(new ProducerRecord<>(eventsTopic, killer.id(), JobEvent.retrying(killer, 1, 1).toJson().encode())).get();
        List<JobRequest> all = List.of(interrupted, killer, fresh.get(0), fresh.get(1));
        all.forEach(this::submit);
        Map<String, List<Integer>> batchSizesByPrompt = new java.util.concurrent.ConcurrentHashMap<>();
        deployWorker(tinyAfter(batch -> recordSizes(batch, batchSizesByPrompt)));

        Map<String, List<JobEvent>> byJob = awaitTerminal(all);
        JobEvent failed = last(byJob.get(killer.id()));
        assertEquals("attempts_exhausted", failed.error().code());
        assertTrue(failed.error().message().contains("worker_stopped"), failed.error().message());
        assertTrue(failed.error().message().contains("3 times"), failed.error().message());
        assertEquals(null, batchSizesByPrompt.get(killer.prompt()), "not run a fourth time");
        assertNoImage(killer);
        ConsumerRecord<String, String> dead = readDeadLetters(1).get(0);
        assertEquals(killer.id(), dead.key());
        assertEquals("3", header(dead, "oneway-attempt"));
        assertEquals("worker_stopped", header(dead, "oneway-error-code"));

        assertEquals(List.of(EventType.STARTED, EventType.RETRYING, EventType.SUCCEEDED), byJob.get(interrupted.id()).stream()
                .map(JobEvent::type).filter(t -> t != EventType.PROGRESS).toList(), "the dead worker's start, then a retry");
        assertEquals(List.of(1), batchSizesByPrompt.get(interrupted.prompt()), "a job whose worker died under it runs alone");
        for (JobRequest j : fresh) {
            assertEquals(EventType.SUCCEEDED, last(byJob.get(j.id())).type());
        }
        assertCommittedEverything();
    }

    @Test
    void runsGivenBackWhenTheirPartitionMovedDoNotCountAndAWorkerJoiningMidRunReleasesTheRunItGivesUp() throws Exception {
        int side = tiny.defaults().sizeMultiple();
        // What three rebalances during a long job leave on the log: three runs begun, each released as its partition
        // moved. Counted as runs, it would be set aside now (ONEWAY_MAX_ATTEMPTS = 3) as a job that killed three workers.
        JobRequest moved = job("alpha", "moved three times while running", 1, side, side);
        String eventsTopic = config.get(Setting.EVENTS_TOPIC);
        for (JobEvent e : List.of(JobEvent.started(moved, 1), JobEvent.released(moved), JobEvent.retrying(moved, 1, 1),
                JobEvent.released(moved), JobEvent.retrying(moved, 1, 1), JobEvent.released(moved))) {
            producer.send(new ProducerRecord<>(eventsTopic, moved.id(), e.toJson().encode())).get();
        }
        // Two long jobs, one on each partition of the jobs topic, in the engine of the only worker when a second joins
        // the group: one partition moves to the newcomer, with the job running on it.
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        Map<String, List<Integer>> batchSizesByPrompt = new java.util.concurrent.ConcurrentHashMap<>();
        config = config.with(Setting.BATCH_POLICY, "fixed").with(Setting.MAX_BATCH_WAIT_MS, 2_000);
        deployWorker(tinyAfter(batch -> {
            recordSizes(batch, batchSizesByPrompt);
            if (batch.stream().anyMatch(r -> r.prompt().startsWith("long"))) {
                running.countDown();
                try {
                    finish.await(2, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }));
        JobRequest mate = job("beta", "a fresh job", 4, side, side);
        submit(moved);
        submit(mate);
        Map<String, List<JobEvent>> first = awaitTerminal(List.of(moved, mate));
        assertEquals(EventType.SUCCEEDED, last(first.get(moved.id())).type(), "run again, not set aside");
        assertEquals(List.of(2), batchSizesByPrompt.get(moved.prompt()),
                "run once, in a batch: not alone, as a job that a worker died under would");

        List<JobRequest> long_ = List.of(job("alpha", "long, on partition 0", 2, side, side),
                job("beta", "long, on partition 1", 3, side, side));
        for (int partition = 0; partition < 2; partition++) {
            JobRequest j = long_.get(partition);
            producer.send(new ProducerRecord<>(jobsTopic(), partition, j.id(), j.toJson().encode())).get();
        }
        assertTrue(running.await(2, TimeUnit.MINUTES), "the long batch started");
        // Joins the group (in a Vert.x of its own, as another process: the first one's engine thread is held), and the
        // cooperative assignor moves one partition to it.
        Vertx second = Vertx.vertx();
        await(Workers.deploy(second, config, List.of(new ServedModel(MODEL, TinyModels.cached(TinyModels.Variant.SD15),
                ImageEngine.of(tiny))), 1, new WorkerMetrics()));
        String released = null;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        List<JobEvent> seen = new ArrayList<>();
        while (released == null && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(200))) {
                JobEvent e = JobEvent.fromJson(new JsonObject(r.value()));
                seen.add(e);
                if (e.type() == EventType.RELEASED) {
                    released = e.id();
                }
            }
        }
        finish.countDown();
        assertTrue(released != null, "a job.released for the job whose partition moved");
        Map<String, List<JobEvent>> byJob = awaitTerminal(long_);
        seen.stream().filter(e -> byJob.containsKey(e.id())).forEach(e -> byJob.get(e.id()).add(0, e));
        for (JobRequest j : long_) {
            assertEquals(EventType.SUCCEEDED, last(byJob.get(j.id())).type());
        }
        String releasedId = released;
        assertEquals(1, long_.stream().filter(j -> j.id().equals(releasedId)).count(), "one of the long jobs");
        assertEquals(1, seen.stream().filter(e -> e.type() == EventType.RELEASED).count(), "only the moved one");
        assertCommittedEverything();
        await(second.close());
    }

    /** The tiny engine, except that any batch holding the exploding prompt throws, as a device fault would. */
    private static ImageEngine explodingEngine(AtomicInteger soloRuns) {
        return tinyAfter(batch -> {
            if (batch.stream().anyMatch(r -> r.prompt().equals(EXPLODING_PROMPT))) {
                if (batch.size() == 1) {
                    soloRuns.incrementAndGet();
                }
                throw new IllegalStateException("simulated device fault");
            }
        });
    }

    /** Notes, per prompt, the size of each batch a job of that prompt ran in. */
    private static void recordSizes(List<GenerationRequest> batch, Map<String, List<Integer>> sizesByPrompt) {
        batch.forEach(r -> sizesByPrompt.computeIfAbsent(r.prompt(), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                .add(batch.size()));
    }

    /** The tiny engine, each batch first shown to {@code look} (which may throw, as a faulty device would). */
    private static ImageEngine tinyAfter(java.util.function.Consumer<List<GenerationRequest>> look) {
        return new ImageEngine() {
            @Override
            public ModelDefaults defaults() {
                return tiny.defaults();
            }

            @Override
            public List<GeneratedImage> generate(List<GenerationRequest> batch, ProgressListener progress) {
                look.accept(batch);
                return tiny.generate(batch, progress);
            }
        };
    }

    private List<ConsumerRecord<String, String>> readDeadLetters(int expected) {
        try (KafkaConsumer<String, String> dead = new KafkaConsumer<>(clientProps(), new StringDeserializer(), new StringDeserializer())) {
            dead.assign(List.of(new TopicPartition(config.get(Setting.DEAD_LETTER_TOPIC), 0)));
            dead.seekToBeginning(dead.assignment());
            List<ConsumerRecord<String, String>> records = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (records.size() < expected && System.nanoTime() < deadline) {
                dead.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            dead.poll(Duration.ofMillis(300)).forEach(records::add);
            assertEquals(expected, records.size(), "dead-lettered records");
            return records;
        }
    }

    private static String header(ConsumerRecord<String, String> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    @Test
    void aWorkerStoppedPastItsGracePeriodHandsItsBatchBackAndAnotherWorkerFinishesIt() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        OnewayConfig normal = config;
        config = config.with(Setting.SHUTDOWN_GRACE_MS, 1);
        deployWorker(tinyAfter(batch -> {
            running.countDown();
            try {
                release.await(2, TimeUnit.MINUTES); // a batch far longer than the grace period
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        int side = tiny.defaults().sizeMultiple();
        JobRequest held = job("alpha", "held up in the engine", 1, side, side);
        submit(held);
        assertTrue(running.await(2, TimeUnit.MINUTES), "the batch started");

        await(vertx.undeploy(deployment)); // returns once the grace period is over, the batch still in the engine
        deployment = null;
        release.countDown();
        config = normal;
        deployWorker(ImageEngine.of(tiny));

        JobEvent terminal = last(awaitTerminal(List.of(held)).get(held.id()));
        assertEquals(EventType.SUCCEEDED, terminal.type(), "the handed-back job ran again on the next worker");
        assertCommittedEverything();
    }

    @Test
    void aJobTheModelCannotMakeFailsAsInvalidWithoutRunning() throws Exception {
        deployWorker(ImageEngine.of(tiny));
        ModelDefaults d = tiny.defaults();
        JobRequest tooBig = job("alpha", "huge", 1, d.maxSide() + d.sizeMultiple(), d.sizeMultiple());
        submit(tooBig);

        List<JobEvent> seen = awaitTerminal(List.of(tooBig)).get(tooBig.id());
        assertEquals(List.of(EventType.FAILED), seen.stream().map(JobEvent::type).toList(), "no started event");
        assertEquals("invalid_job", seen.get(0).error().code());
        assertNoImage(tooBig);
    }

    @Test
    void aJobCanceledBeforeAnyWorkerRanIsSkipped() throws Exception {
        int side = tiny.defaults().sizeMultiple();
        JobRequest canceled = job("alpha", "never mind", 1, side, side);
        JobRequest kept = job("alpha", "keep me", 2, side, side);
        submit(canceled);
        submit(kept);
        producer.send(new ProducerRecord<>(config.get(Setting.EVENTS_TOPIC), canceled.id(),
                JobEvent.cancelRequested(canceled.id(), "alpha").toJson().encode())).get();

        deployWorker(ImageEngine.of(tiny));

        Map<String, List<JobEvent>> byJob = awaitTerminal(List.of(canceled, kept));
        assertEquals(EventType.SUCCEEDED, last(byJob.get(kept.id())).type());
        assertEquals(List.of(EventType.CANCEL_REQUESTED, EventType.CANCELED),
                byJob.get(canceled.id()).stream().map(JobEvent::type).toList(),
                "a canceled job gets no started event; the worker writes its terminal job.canceled");
        assertNoImage(canceled);
        assertCommittedEverything();
    }

    @Test
    void anUnreadableRecordFailsItsJobAsInvalidAndIsDeadLetteredAsItCame() throws Exception {
        String id = UUID.randomUUID().toString();
        String noSeed = new JsonObject().put("id", id).put("tenant", "alpha").put("prompt", "a cat").encode();
        String notJson = "{this is not json";
        producer.send(new ProducerRecord<>(jobsTopic(), id, noSeed)).get();
        producer.send(new ProducerRecord<>(jobsTopic(), "garbage", notJson)).get();

        deployWorker(ImageEngine.of(tiny));

        JobEvent failed = awaitEvent(id, EventType.FAILED);
        assertEquals("invalid_job", failed.error().code());
        assertEquals("alpha", failed.tenant());
        List<ConsumerRecord<String, String>> dead = readDeadLetters(2);
        assertEquals(List.of(noSeed, notJson).stream().sorted().toList(),
                dead.stream().map(ConsumerRecord::value).sorted().toList(), "dead letters hold the raw records");
        assertTrue(dead.stream().allMatch(r -> "invalid_job".equals(header(r, "oneway-error-code"))));
        assertCommittedEverything();
    }

    @Test
    void aCancelWrittenAfterAStartDoesNotCountAndTheJobRunsToItsEnd() throws Exception {
        int side = tiny.defaults().sizeMultiple();
        JobRequest job = job("alpha", "too late to cancel", 4, side, side);
        submit(job);
        // A worker (since gone) started it; a DELETE then came too late, and its gateway answered 409.
        producer.send(new ProducerRecord<>(config.get(Setting.EVENTS_TOPIC), job.id(),
                JobEvent.started(job, 1).toJson().encode())).get();
        producer.send(new ProducerRecord<>(config.get(Setting.EVENTS_TOPIC), job.id(),
                JobEvent.cancelRequested(job.id(), "alpha").toJson().encode())).get();

        deployWorker(ImageEngine.of(tiny));

        JobEvent succeeded = awaitEvent(job.id(), EventType.SUCCEEDED);
        assertNotNull(succeeded.result());
        assertTrue(download(Topics.imageObjectKey("alpha", job.id())).length > 0);
        assertCommittedEverything();
    }

    @Test
    void aWorkerPoolConsumesOnlyItsModelsTopicAndAnnouncesThatModelUntilItStops() throws Exception {
        deployWorker(ImageEngine.of(tiny));
        JobRequest mine = job("alpha", "for the model this pool serves", 1, 64, 64);
        JobRequest other = job("alpha", "for the other model", 2, 64, 64);
        submit(mine);
        producer.send(new ProducerRecord<>(Topics.jobs(config, OTHER_MODEL), other.id(), other.toJson().encode())).get();

        awaitEvent(mine.id(), EventType.SUCCEEDED);
        assertCommittedEverything();
        for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(1000))) {
            assertTrue(!r.key().equals(other.id()), "the other model's job is not this pool's: " + r.value());
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            assertEquals(Map.of(), admin.listConsumerGroupOffsets(Topics.consumerGroup(config, OTHER_MODEL))
                    .partitionsToOffsetAndMetadata().get(), "nobody consumed the other model's topic");
        }

        List<ConsumerRecord<String, String>> announced = readModelsTopic(1);
        ModelAnnouncement a = ModelAnnouncement.fromJson(new JsonObject(announced.get(0).value()));
        assertEquals(MODEL, a.model());
        assertEquals(ModelAnnouncement.key(MODEL, a.worker()), announced.get(0).key());
        ModelDefaults d = tiny.defaults();
        int cap = config.getInt(Setting.MAX_STEPS);
        assertTrue(d.maxSteps() > cap, "the tiny model allows its scheduler's timesteps, more than the worker's cap");
        assertEquals(List.of(d.width(), d.height(), d.sizeMultiple(), d.maxSide(), d.steps(), cap),
                List.of(a.width(), a.height(), a.sizeMultiple(), a.maxSide(), a.defaultSteps(), a.maxSteps()),
                "the limits are the loaded model's, its steps capped by the worker's ONEWAY_MAX_STEPS");
        assertEquals("sd15", a.family());
        assertEquals(List.of("vae", "taesd"), a.decoders(), "the generated tiny model has its vae_tiny/");
        assertTrue(a.liveAt(java.time.Instant.now()));

        JobRequest misplaced = new JobRequest(UUID.randomUUID().toString(), "alpha", "names the other model", 3, 64, 64, 2,
                "tiue", Instant.now(), OTHER_MODEL, JobRequest.DEFAULT_DECODER, false, null);
        submit(misplaced);
        assertEquals("invalid_job", awaitEvent(misplaced.id(), EventType.FAILED).error().code(),
                "a pool never runs a job that names another model");

        await(vertx.undeploy(deployment));
        deployment = null;
        List<ConsumerRecord<String, String>> all = readModelsTopic(announced.size() + 2);
        ConsumerRecord<String, String> lastWord = all.get(all.size() - 2);
        ConsumerRecord<String, String> tombstone = all.get(all.size() - 1);
        assertEquals(MODEL, lastWord.key(), "the model's limits stay known under its own key");
        assertTrue(!ModelAnnouncement.fromJson(new JsonObject(lastWord.value())).liveAt(java.time.Instant.now()));
        assertEquals(a.key(), tombstone.key());
        assertEquals(null, tombstone.value(), "a tombstone: the worker no longer serves the model");
    }

    private List<ConsumerRecord<String, String>> readModelsTopic(int atLeast) {
        try (KafkaConsumer<String, String> reader = new KafkaConsumer<>(clientProps(), new StringDeserializer(),
                new StringDeserializer())) {
            reader.assign(List.of(new TopicPartition(config.get(Setting.MODELS_TOPIC), 0)));
            reader.seekToBeginning(reader.assignment());
            List<ConsumerRecord<String, String>> read = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (read.size() < atLeast && System.nanoTime() < deadline) {
                reader.poll(Duration.ofMillis(200)).forEach(read::add);
            }
            assertTrue(read.size() >= atLeast, "models topic: " + read.size() + " records");
            return read;
        }
    }

    @Test
    void aWorkerWithAStableIdentityLeavesTheGroupWhenStoppedOnPurpose() throws Exception {
        config = config.with(Setting.WORKER_ID, "stable-" + UUID.randomUUID().toString().substring(0, 6));
        deployWorker(ImageEngine.of(tiny));
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            String group = Topics.consumerGroup(config, MODEL);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (members(admin, group).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(List.of(config.get(Setting.WORKER_ID) + "-1"), members(admin, group).stream()
                    .map(m -> m.groupInstanceId().orElse("dynamic")).toList(), "a static member, named after the worker");

            await(vertx.undeploy(deployment));
            deployment = null;

            assertEquals(List.of(), members(admin, group),
                    "gone at once, not after the session timeout, so its partitions move to the other workers");
        }
    }

    @Test
    void whenAnImageCostsMoreInALargerBatchTheWorkerRunsJobsOneAtATime() throws Exception {
        // 200 ms per image times the batch size: a batch of 2 takes 800 ms, twice the time per image of two alone.
        List<Integer> sizes = runSaturated(24, n -> 200L * n * n);
        assertEquals(List.of(1, 1, 2, 2), sizes.subList(0, 4), "starts alone, measures batches of 2 (twice: the first "
                + "pays its warm-up): " + sizes);
        assertTrue(sizes.subList(4, sizes.size()).stream().filter(n -> n > 1).count() <= 1,
                "then one at a time, but for a rare re-measurement: " + sizes);
        assertTrue(metrics.scrape().contains("oneway_batch_policy_size{shape=\"" + shape() + "\"} 1.0"), metrics.scrape());
    }

    @Test
    void whenAnImageCostsLessInALargerBatchTheWorkerFormsFullBatches() throws Exception {
        // 600 ms per batch plus 30 ms per image: the fixed cost is shared, as on a GPU.
        List<Integer> sizes = runSaturated(24, n -> 600L + 30L * n);
        assertEquals(List.of(1, 1, 2, 2, 4), sizes.subList(0, 5), "climbs while each size is cheaper per image: " + sizes);
        assertTrue(sizes.stream().filter(n -> n == 4).count() >= 4, "then full batches: " + sizes);
        assertTrue(metrics.scrape().contains("oneway_batch_policy_size{shape=\"" + shape() + "\"} 4.0"), metrics.scrape());
    }

    /**
     * Submits {@code jobs} jobs of one shape before the worker starts, so it always has a backlog, and runs them on the
     * tiny engine slowed by {@code batchMs(n)} for a batch of n (a real sleep: the worker measures wall time); returns
     * the batch sizes the worker formed, in order.
     */
    private List<Integer> runSaturated(int jobs, java.util.function.IntToLongFunction batchMs) throws Exception {
        List<Integer> sizes = java.util.Collections.synchronizedList(new ArrayList<>());
        List<JobRequest> submitted = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            submitted.add(job("alpha", "a queue of foxes " + i, i, tiny.defaults().sizeMultiple(), tiny.defaults().sizeMultiple()));
        }
        submitted.forEach(this::submit);
        deployWorker(new ImageEngine() {
            @Override
            public ModelDefaults defaults() {
                return tiny.defaults();
            }

            @Override
            public List<GeneratedImage> generate(List<GenerationRequest> batch, ProgressListener progress) {
                sizes.add(batch.size());
                List<GeneratedImage> images = tiny.generate(batch, progress);
                try {
                    Thread.sleep(batchMs.applyAsLong(batch.size()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return images;
            }
        });
        Map<String, List<JobEvent>> byJob = awaitTerminal(submitted);
        assertTrue(submitted.stream().allMatch(j -> last(byJob.get(j.id())).type() == EventType.SUCCEEDED));
        assertCommittedEverything();
        return List.copyOf(sizes);
    }

    private String shape() {
        return job("alpha", "", 0, tiny.defaults().sizeMultiple(), tiny.defaults().sizeMultiple()).batchKey();
    }

    private static List<org.apache.kafka.clients.admin.MemberDescription> members(Admin admin, String group) throws Exception {
        return List.copyOf(admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get().members());
    }

    /** Reads the events topic until the job's event of this type arrives, and returns it; its other events are skipped. */
    private JobEvent awaitEvent(String id, EventType type) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(200))) {
                JobEvent e = JobEvent.fromJson(new JsonObject(r.value()));
                if (e.id().equals(id) && e.type() == type) {
                    return e;
                }
            }
        }
        throw new AssertionError("no " + type + " event for job " + id);
    }

    /** A worker serving {@link #MODEL} only, with this engine. */
    private void deployWorker(ImageEngine engine) throws Exception {
        ServedModel model = new ServedModel(MODEL, TinyModels.cached(TinyModels.Variant.SD15), engine);
        metrics = new WorkerMetrics();
        deployment = await(Workers.deploy(vertx, config, List.of(model), 1, metrics));
    }

    private String jobsTopic() {
        return Topics.jobs(config, MODEL);
    }

    private static JobRequest job(String tenant, String prompt, long seed, int width, int height) {
        return new JobRequest(UUID.randomUUID().toString(), tenant, prompt, seed, width, height, 2, "tiue", Instant.now());
    }

    private void submit(JobRequest job) {
        try {
            producer.send(new ProducerRecord<>(jobsTopic(), job.id(), job.toJson().encode())).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads the events topic until every job has a terminal event; returns each job's events after queued. */
    private Map<String, List<JobEvent>> awaitTerminal(List<JobRequest> jobs) {
        Map<String, List<JobEvent>> byJob = new HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(200))) {
                JobEvent e = JobEvent.fromJson(new JsonObject(r.value()));
                if (e.type() != EventType.QUEUED) {
                    byJob.computeIfAbsent(e.id(), k -> new ArrayList<>()).add(e);
                }
            }
            if (jobs.stream().allMatch(j -> byJob.containsKey(j.id()) && isTerminal(last(byJob.get(j.id()))))) {
                // A little more reading shows any duplicate terminal event.
                for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(500))) {
                    JobEvent e = JobEvent.fromJson(new JsonObject(r.value()));
                    byJob.computeIfAbsent(e.id(), k -> new ArrayList<>()).add(e);
                }
                for (JobRequest j : jobs) {
                    assertEquals(1, byJob.get(j.id()).stream().filter(JobConsumerVerticleTest::isTerminal).count(),
                            "exactly one terminal event for " + j.id());
                }
                return byJob;
            }
        }
        throw new AssertionError("jobs did not finish: " + byJob.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().stream().map(JobEvent::type).toList())));
    }

    private void assertCommittedEverything() throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Map<TopicPartition, Long> ends = new HashMap<>();
            Map<TopicPartition, Long> committed = new HashMap<>();
            while (System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(Topics.consumerGroup(config, MODEL))
                        .partitionsToOffsetAndMetadata().get();
                committed.clear();
                offsets.forEach((tp, om) -> committed.put(tp, om.offset()));
                ends.clear();
                for (int partition = 0; partition < 2; partition++) {
                    TopicPartition tp = new TopicPartition(jobsTopic(), partition);
                    long end = admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest())).partitionResult(tp).get().offset();
                    if (end > 0) {
                        ends.put(tp, end);
                    }
                }
                if (committed.equals(ends)) {
                    return;
                }
                Thread.sleep(100);
            }
            assertEquals(ends, committed, "every finished job's offset is committed");
        }
    }

    private byte[] download(String key) throws Exception {
        try (InputStream in = minio.getObject(GetObjectArgs.builder().bucket(config.get(Setting.S3_BUCKET)).object(key).build())) {
            return in.readAllBytes();
        }
    }

    private void assertNoImage(JobRequest job) throws Exception {
        try {
            minio.statObject(StatObjectArgs.builder().bucket(config.get(Setting.S3_BUCKET))
                    .object(Topics.imageObjectKey(job.tenant(), job.id())).build());
            throw new AssertionError("job " + job.id() + " has an image");
        } catch (ErrorResponseException e) {
            assertEquals("NoSuchKey", e.errorResponse().code());
        }
    }

    private static boolean isTerminal(JobEvent e) {
        return e.status() != null && e.status().terminal();
    }

    private static JobEvent last(List<JobEvent> events) {
        return events.get(events.size() - 1);
    }

    private Properties clientProps() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return p;
    }

    private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
    }
}
