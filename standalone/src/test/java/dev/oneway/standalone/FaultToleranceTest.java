package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import dev.oneway.common.Shutdown;
import dev.oneway.embedded.FreePorts;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.gateway.GatewayMain;
import dev.oneway.standalone.OnewayClient.EventSocket;
import dev.oneway.worker.ImageEngine;
import dev.oneway.worker.WorkerMain;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.ConsumerGroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parts of a running system fail and come back; no accepted job is lost or finished twice. Each test injects one
 * fault into one shared system (embedded broker, S3 server, gateway, one worker verticle) and, where a process
 * must die, into child JVMs running WorkerMain or GatewayMain against the same broker and S3 server. Each test's
 * numbers go to docs/reliability.md (see {@link ReliabilityReport}).
 */
class FaultToleranceTest {

    static final String ALPHA = "key-alpha";
    static final String BETA = "key-beta";
    static final List<String> KEYS = List.of(ALPHA, BETA);
    /** Prompts with this mark make the engine throw, every time, as a device fault tied to one job would. */
    static final String POISON = "[poison]";
    static final int PARTITIONS = 2;

    @TempDir
    static Path dataDir;
    static OnewaySystem system;
    static OnewayClient client;
    /** Per poisoned prompt: how often the engine ran it alone (once per attempt, after its batch failed). */
    static final Map<String, AtomicInteger> poisonSoloRuns = new ConcurrentHashMap<>();

    @BeforeAll
    static void startSystem() {
        system = OnewaySystem.builder()
                .dataDir(dataDir)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.API_KEYS, "alpha:" + ALPHA + ",beta:" + BETA)
                .set(Setting.JOBS_PARTITIONS, PARTITIONS)
                .set(Setting.MAX_BATCH_SIZE, 4)
                .set(Setting.MAX_BATCH_WAIT_MS, 200)
                // A killed worker's partitions move after its session expires: the broker's minimum, not 45 s.
                .set(Setting.KAFKA_SESSION_TIMEOUT_MS, 6000)
                .set(Setting.S3_UPLOAD_BACKOFF_MS, 200)
                .set(Setting.SHUTDOWN_GRACE_MS, 20000)
                .wrapEngine(FaultToleranceTest::poisonable)
                .start();
        client = new OnewayClient(system.vertx(), system.httpPort());
    }

    @AfterAll
    static void stopSystem() {
        if (client != null) {
            client.close();
        }
        if (system != null) {
            system.close();
        }
        ReliabilityReport.write();
    }

    @Test
    void jobsAcceptedAroundABrokerRestartAllFinishExactlyOnce() {
        try (FaultRun run = new FaultRun(1, "Kafka broker restarted", "jobsAcceptedAroundABrokerRestartAllFinishExactlyOnce",
                client, KEYS)) {
            submitAlternating(run, 6, "before the broker restart");
            system.kafka().restart();
            run.faultEnded();
            // Right after the restart the gateway may answer 503 until its clients reconnect; the run retries.
            submitAlternating(run, 3, "after the broker restart");
            run.finish();
        }
    }

    @Test
    void stoppedWorkersFinishTheirBatchAndRestartedWorkersTakeTheRest() {
        try (FaultRun run = new FaultRun(2, "Worker verticles stopped and restarted",
                "stoppedWorkersFinishTheirBatchAndRestartedWorkersTakeTheRest", client, KEYS)) {
            submitAlternating(run, 12, "across a worker restart");
            system.stopWorkers();
            // Jobs a stopping worker had started are finished; the others wait in Kafka, uncommitted.
            system.startWorkers();
            run.faultEnded();
            run.finish();
        }
    }

    @Test
    void aWorkerJvmKilledMidBatchLeavesItsJobsToTheOtherWorker() throws Exception {
        try (ChildJvm child = ChildJvm.start("worker-killed", WorkerMain.class,
                ChildJvm.environment(system.config(), Map.of(Setting.MAX_BATCH_SIZE, 2)));
             FaultRun run = new FaultRun(3, "Worker JVM killed (SIGKILL) mid-batch",
                     "aWorkerJvmKilledMidBatchLeavesItsJobsToTheOtherWorker", client, KEYS)) {
            Set<Integer> childPartitions = awaitPartitionsOf(child);
            List<String> childJobs = submitUntilOnPartitions(run, childPartitions, 8, "killed worker");
            awaitAnyStartedBy(child, childJobs);

            child.kill();
            assertNotNull(child.awaitExit(60_000), "a killed process ends");
            run.faultEnded();
            Map<String, JsonObject> finals = run.finish();

            long finishedElsewhere = childJobs.stream().filter(id -> !ranOn(child, finals.get(id))).count();
            assertTrue(finishedElsewhere > 0, "the killed worker's unfinished jobs were finished by the other worker");
        }
    }

    @Test
    void aWorkerJvmSentSigtermFinishesItsBatchCommitsAndExits() throws Exception {
        long graceMs = 60_000;
        try (ChildJvm child = ChildJvm.start("worker-sigterm", WorkerMain.class, ChildJvm.environment(system.config(),
                Map.of(Setting.MAX_BATCH_SIZE, 2, Setting.SHUTDOWN_GRACE_MS, graceMs)));
             FaultRun run = new FaultRun(4, "Worker JVM stopped with SIGTERM mid-batch",
                     "aWorkerJvmSentSigtermFinishesItsBatchCommitsAndExits", client, KEYS)) {
            Set<Integer> childPartitions = awaitPartitionsOf(child);
            List<String> childJobs = submitUntilOnPartitions(run, childPartitions, 8, "sigterm worker");
            String inFlight = awaitAnyStartedBy(child, childJobs);

            child.terminate();
            Integer exit = child.awaitExit(graceMs + Shutdown.CLOSE_MARGIN_MS + 30_000);
            assertNotNull(exit, "the worker exits after its grace period at the latest: " + child.describe());
            assertEquals(0, exit, "SIGTERM is a normal stop: exit status 0");
            run.faultEnded();
            assertTrue(child.output().contains("Worker stopped"), "a clean stop: " + child.output());
            Map<String, JsonObject> finals = run.finish();

            assertTrue(ranOn(child, finals.get(inFlight)),
                    "the batch running at SIGTERM was finished by the stopping worker: " + finals.get(inFlight));
        }
    }

    @Test
    void aGatewayJvmSentSigtermClosesWebSocketsWithGoingAwayAndExits() throws Exception {
        int port = FreePorts.next();
        long graceMs = 10_000;
        try (ChildJvm gateway = ChildJvm.start("gateway-sigterm", GatewayMain.class, ChildJvm.environment(system.config(),
                Map.of(Setting.HTTP_PORT, port, Setting.SHUTDOWN_GRACE_MS, graceMs)));
             OnewayClient viaChild = new OnewayClient(system.vertx(), port);
             FaultRun run = new FaultRun(5, "Gateway JVM stopped with SIGTERM", "aGatewayJvmSentSigtermClosesWebSocketsWithGoingAwayAndExits",
                     client, KEYS)) {
            awaitReady(viaChild, gateway);
            EventSocket listener = viaChild.events(ALPHA);
            for (int i = 0; i < 3; i++) {
                OnewayClient.Reply reply = viaChild.submit(ALPHA, job("through the second gateway " + i));
                assertEquals(202, reply.status(), reply.body().toString());
                run.accepted(reply.json().getString("id"), ALPHA);
            }

            gateway.terminate();
            assertEquals((short) 1001, OnewayClient.await(listener.closed()), "a close frame: going away");
            assertEquals(0, gateway.awaitExit(graceMs + Shutdown.CLOSE_MARGIN_MS + 30_000),
                    "the gateway exits, with status 0, after its grace period at the latest: " + gateway.describe());
            run.faultEnded();
            assertTrue(gateway.output().contains("Gateway stopped"), "a clean stop: " + gateway.output());
            run.finish();
        }
    }

    @Test
    void whileS3IsUnreachableNoJobSucceedsAndAfterItReturnsAllDo() {
        try (FaultRun run = new FaultRun(6, "S3 unreachable for a while", "whileS3IsUnreachableNoJobSucceedsAndAfterItReturnsAllDo",
                client, KEYS)) {
            List<String> ids;
            system.s3().stop();
            try {
                ids = submitAlternating(run, 6, "while storage is down");
                awaitAnyStatus(ids, "running");
                // The engine has made images that cannot be stored; give the uploads time to fail and retry a few times.
                OnewayClient.sleep(2000);
                for (FaultRun.Job job : run.jobs()) {
                    assertNotEquals("succeeded", client.get(job.key(), "/v1/jobs/" + job.id()).json().getString("status"),
                            "no job succeeds without its object");
                }
            } finally {
                system.s3().start();
            }
            run.faultEnded();
            run.finish();
        }
    }

    @Test
    void aJobThatFailsOnEveryAttemptIsDeadLetteredAndItsBatchMatesSucceed() throws Exception {
        int maxAttempts = system.config().getInt(Setting.MAX_ATTEMPTS);
        Map<String, String> poisonedPromptById = new HashMap<>();
        try (FaultRun run = new FaultRun(7, "A job failing in the engine on every attempt, among healthy jobs",
                "aJobThatFailsOnEveryAttemptIsDeadLetteredAndItsBatchMatesSucceed", client, KEYS)) {
            for (int i = 0; i < 8; i++) {
                String key = KEYS.get(i % 2);
                if (i == 2 || i == 5) {
                    String prompt = POISON + " job " + i + " " + System.nanoTime();
                    poisonedPromptById.put(run.submit(key, job(prompt), "failed"), prompt);
                } else {
                    run.submit(key, job("a healthy batch mate " + i));
                }
            }
            run.faultEnded();
            Map<String, JsonObject> finals = run.finish();

            for (Map.Entry<String, String> poisoned : poisonedPromptById.entrySet()) {
                JsonObject error = finals.get(poisoned.getKey()).getJsonObject("error");
                assertEquals("attempts_exhausted", error.getString("code"), error.encode());
                assertTrue(error.getString("message").contains("engine_error"), error.encode());
                assertEquals(maxAttempts, poisonSoloRuns.get(poisoned.getValue()).get(),
                        "the job ran alone once per attempt, ONEWAY_MAX_ATTEMPTS times");
            }
            Map<String, ConsumerRecord<String, String>> dead = readDeadLetters(poisonedPromptById.keySet());
            for (ConsumerRecord<String, String> record : dead.values()) {
                assertEquals(String.valueOf(maxAttempts),
                        new String(record.headers().lastHeader("oneway-attempt").value(), StandardCharsets.UTF_8));
                assertTrue(new JsonObject(record.value()).getString("prompt").startsWith(POISON));
            }
        }
    }

    @Test
    void aJobThatKillsItsWorkerOnEveryRunIsSetAsideAfterMaxAttemptsAndTheJobsAroundItSucceed() throws Exception {
        int maxAttempts = system.config().getInt(Setting.MAX_ATTEMPTS);
        // A fixed batch policy and a long batch wait put the killer in one batch with healthy jobs on its first run.
        Map<String, String> env = ChildJvm.environment(system.config(), Map.of(Setting.MAX_BATCH_SIZE, 4,
                Setting.BATCH_POLICY, "fixed", Setting.MAX_BATCH_WAIT_MS, 1000, Setting.HTTP_PORT, 0, Setting.WORKER_HTTP_PORT, FreePorts.next(),
                Setting.WORKER_ID, "crashing-worker"));
        // Only the child runs jobs: the in-process worker would run the killer job without dying.
        system.stopWorkers();
        AtomicInteger deaths = new AtomicInteger();
        List<ChildJvm> children = new java.util.concurrent.CopyOnWriteArrayList<>();
        children.add(ChildJvm.start("worker-crashing", CrashingWorkerMain.class, env));
        // The supervisor an orchestrator is: a worker that died is started again, as often as it dies.
        java.util.concurrent.atomic.AtomicBoolean supervising = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread supervisor = new Thread(() -> {
            while (supervising.get() && deaths.get() <= maxAttempts + 2) { // more deaths fail the test anyway
                ChildJvm current = children.get(children.size() - 1);
                if (!current.isAlive()) {
                    deaths.incrementAndGet();
                    children.add(ChildJvm.start("worker-crashing", CrashingWorkerMain.class, env));
                }
                OnewayClient.sleep(100);
            }
        }, "worker-supervisor");
        supervisor.start();
        try (FaultRun run = new FaultRun(9, "A job that kills its worker JVM on every run, among healthy jobs",
                "aJobThatKillsItsWorkerOnEveryRunIsSetAsideAfterMaxAttemptsAndTheJobsAroundItSucceed", client, KEYS)) {
            awaitReady(children.get(0));
            submitAlternating(run, 2, "a batch mate of a job that kills its worker");
            String killer = run.submit(ALPHA, job(CrashingWorkerMain.KILLER + " " + System.nanoTime()), "failed");
            submitAlternating(run, 1, "another batch mate of a job that kills its worker");
            long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
            while (deaths.get() == 0 && System.nanoTime() < deadline) {
                OnewayClient.sleep(50);
            }
            assertTrue(deaths.get() > 0, "the killer job killed its worker: " + children.get(0).output());
            run.faultEnded();
            submitAlternating(run, 3, "queued behind a job that kills its worker");
            Map<String, JsonObject> finals = run.finish();

            JsonObject error = finals.get(killer).getJsonObject("error");
            assertEquals("attempts_exhausted", error.getString("code"), error.encode());
            assertTrue(error.getString("message").contains("worker_stopped"), error.encode());
            // This engine dies the instant it sees the killer; its first run may end before its start is on the log, and
            // is then not counted (its later runs wait for that: the job was on the log before the restart).
            assertTrue(deaths.get() == maxAttempts || deaths.get() == maxAttempts + 1, "the killer ran ONEWAY_MAX_ATTEMPTS "
                    + "times, and once more at most, and only it killed the worker: " + deaths.get() + " deaths");
            assertTrue(readDeadLetters(Set.of(killer)).containsKey(killer));
            assertTrue(children.get(0).output().contains("a batch of 4 holds a killer job"), "the killer's first batch "
                    + "held its three mates, who died with it once and then succeeded: " + children.get(0).output());
        } finally {
            supervising.set(false);
            supervisor.join();
            children.forEach(ChildJvm::close);
            system.startWorkers();
        }
    }

    @Test
    void aClientThatWasAwayAsksForWhatItMissedAndGetsEachTerminalEventOnce() {
        try (FaultRun run = new FaultRun(8, "WebSocket client away while its jobs finished",
                "aClientThatWasAwayAsksForWhatItMissedAndGetsEachTerminalEventOnce", client, KEYS)) {
            List<String> ids = new ArrayList<>();
            system.stopWorkers();
            try {
                for (int i = 0; i < 3; i++) {
                    ids.add(run.submit(ALPHA, job("finished while the client was away " + i)));
                }
                try (EventSocket away = client.events(ALPHA)) {
                    away.send(new JsonObject().put("subscribe", new JsonArray(ids)));
                    away.awaitUntil("the subscription", s -> s.frames().stream().anyMatch(f -> "subscribed".equals(f.getString("type"))));
                }
            } finally {
                system.startWorkers();
            }
            for (String id : ids) {
                client.awaitFinished(ALPHA, id);
            }

            run.faultEnded();
            try (EventSocket back = client.events(ALPHA); EventSocket intruder = client.events(BETA)) {
                back.send(new JsonObject().put("subscribe", new JsonArray(ids)).put("replay", true));
                back.awaitUntil("the missed completions", s -> ids.stream().allMatch(id -> FaultRun.terminalEvents(s, id) > 0));
                for (String id : ids) {
                    List<JsonObject> frames = back.eventsOf(id);
                    assertEquals(1, frames.size(), "one replayed frame per job: " + frames);
                    assertEquals("job.succeeded", frames.get(0).getString("type"));
                    assertEquals(true, frames.get(0).getBoolean("replayed"));
                    assertNotNull(frames.get(0).getJsonObject("result").getString("url"));
                }

                intruder.send(new JsonObject().put("subscribe", new JsonArray(ids)).put("replay", true));
                intruder.awaitUntil("an error per id", s -> s.frames().stream().filter(f -> f.containsKey("error")).count() == ids.size());
                intruder.awaitUntil("the (empty) subscription", s -> s.frames().stream().anyMatch(f -> "subscribed".equals(f.getString("type"))));
                for (JsonObject frame : intruder.frames()) {
                    assertTrue(frame.getString("id") == null, "another tenant learns nothing of the jobs: " + frame);
                    if (frame.containsKey("error")) {
                        assertEquals("not_found", frame.getJsonObject("error").getString("code"));
                    }
                }
            }
            run.finish();
        }
    }

    private static List<String> submitAlternating(FaultRun run, int count, String prompt) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(run.submit(KEYS.get(i % 2), job(prompt + " " + i)));
        }
        return ids;
    }

    /** Submits until {@code wanted} jobs landed on the given partitions of the jobs topic (Kafka's key hashing). */
    private static List<String> submitUntilOnPartitions(FaultRun run, Set<Integer> partitions, int wanted, String prompt) {
        List<String> onThem = new ArrayList<>();
        for (int i = 0; onThem.size() < wanted; i++) {
            assertTrue(i < 20 * wanted, "job ids never hashed to " + partitions);
            String id = run.submit(KEYS.get(i % 2), job(prompt + " " + i));
            if (partitions.contains(Utils.toPositive(Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % PARTITIONS)) {
                onThem.add(id);
            }
        }
        return onThem;
    }

    private static JsonObject job(String prompt) {
        int side = system.modelDefaults().width();
        return new JsonObject().put("prompt", prompt).put("width", side).put("height", side);
    }

    private static boolean ranOn(ChildJvm child, JsonObject job) {
        JsonObject timings = job.getJsonObject("timings");
        return timings != null && timings.getString("worker", "").startsWith(child.pid() + ":");
    }

    /** The partitions the child's consumer owns once the group has settled with it. */
    private static Set<Integer> awaitPartitionsOf(ChildJvm child) throws Exception {
        String group = Topics.consumerGroup(system.config(), system.config().defaultModel());
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, system.config().get(Setting.KAFKA_BOOTSTRAP));
        try (Admin admin = Admin.create(p)) {
            long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
            ConsumerGroupDescription d = null;
            while (System.nanoTime() < deadline) {
                assertTrue(child.isAlive(), "the child worker died: " + child.output());
                d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                if (d.state() == ConsumerGroupState.STABLE) {
                    Set<Integer> partitions = new HashSet<>();
                    boolean othersHavePartitions = false;
                    for (MemberDescription m : d.members()) {
                        if (m.clientId().startsWith(child.pid() + ":")) {
                            m.assignment().topicPartitions().forEach(tp -> partitions.add(tp.partition()));
                        } else if (!m.assignment().topicPartitions().isEmpty()) {
                            othersHavePartitions = true;
                        }
                    }
                    if (!partitions.isEmpty() && othersHavePartitions) {
                        return partitions;
                    }
                }
                Thread.sleep(200);
            }
            throw new AssertionError("the child worker never got partitions: " + d + "\n" + child.output());
        }
    }

    /** Waits until the child has started (or already finished) one of the jobs on its partitions; returns that job. */
    private static String awaitAnyStartedBy(ChildJvm child, List<String> ids) {
        long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            for (String id : ids) {
                for (String key : KEYS) {
                    OnewayClient.Reply reply = client.get(key, "/v1/jobs/" + id);
                    if (reply.status() == 200 && !"queued".equals(reply.json().getString("status"))) {
                        return id;
                    }
                }
            }
            OnewayClient.sleep(20);
        }
        throw new AssertionError("the child worker never started a job: " + child.output());
    }

    private static void awaitAnyStatus(List<String> ids, String status) {
        long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            for (String id : ids) {
                for (String key : KEYS) {
                    OnewayClient.Reply reply = client.get(key, "/v1/jobs/" + id);
                    if (reply.status() == 200 && status.equals(reply.json().getString("status"))) {
                        return;
                    }
                }
            }
            OnewayClient.sleep(50);
        }
        throw new AssertionError("no job of " + ids + " became " + status);
    }

    /** Until the child worker's consumer has been assigned partitions (it logs its assignment). */
    private static void awaitReady(ChildJvm worker) {
        long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            assertTrue(worker.isAlive(), "the child worker died: " + worker.output());
            if (worker.output().contains("now consumes [" + Topics.jobs(system.config(), system.config().defaultModel()))) {
                return;
            }
            OnewayClient.sleep(100);
        }
        throw new AssertionError("the child worker never got partitions: " + worker.output());
    }

    private static void awaitReady(OnewayClient viaChild, ChildJvm gateway) {
        long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            assertTrue(gateway.isAlive(), "the child gateway died: " + gateway.output());
            try {
                if (viaChild.get(null, "/health/ready").status() == 200) {
                    return;
                }
            } catch (IllegalStateException notListeningYet) {
                // connection refused while the JVM starts
            }
            OnewayClient.sleep(200);
        }
        throw new AssertionError("the child gateway never got ready: " + gateway.output());
    }

    private static Map<String, ConsumerRecord<String, String>> readDeadLetters(Set<String> ids) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, system.config().get(Setting.KAFKA_BOOTSTRAP));
        Map<String, ConsumerRecord<String, String>> found = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(system.config().get(Setting.DEAD_LETTER_TOPIC)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
            while (!found.keySet().containsAll(ids) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (ids.contains(r.key())) {
                        assertTrue(found.put(r.key(), r) == null, "dead-lettered once: " + r.key());
                    }
                }
            }
        }
        assertEquals(ids, found.keySet(), "every job out of attempts is on the dead-letter topic");
        return found;
    }

    /** The real engine, except that a prompt marked {@link #POISON} makes any batch holding it throw. */
    private static ImageEngine poisonable(ImageEngine real) {
        return Engines.beforeEachBatch(real, batch -> {
            for (GenerationRequest r : batch) {
                if (r.prompt().startsWith(POISON)) {
                    if (batch.size() == 1) {
                        poisonSoloRuns.computeIfAbsent(r.prompt(), k -> new AtomicInteger()).incrementAndGet();
                    }
                    throw new IllegalStateException("simulated device fault on a poisoned prompt");
                }
            }
        });
    }
}
