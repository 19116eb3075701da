package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import dev.oneway.standalone.OnewayClient.EventSocket;
import dev.oneway.standalone.OnewayClient.Reply;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.vertx.core.Future;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.common.ConsumerGroupState;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Oneway end to end as its users see it: one system (embedded broker, S3Proxy, gateway, two worker verticles
 * over the generated tiny model) shared by every test of this class, driven over HTTP and WebSockets.
 */
class JobSystemTest {

    static final String ALPHA_KEY = "key-alpha";
    static final String BETA_KEY = "key-beta";

    @TempDir
    static Path dataDir;
    static OnewaySystem system;
    static OnewayClient client;
    static int side;

    @BeforeAll
    static void startSystem() {
        system = OnewaySystem.builder()
                .dataDir(dataDir)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.API_KEYS, "alpha:" + ALPHA_KEY + ",beta:" + BETA_KEY)
                .set(Setting.WORKER_INSTANCES, 2)
                .set(Setting.JOBS_PARTITIONS, 4)
                .set(Setting.MAX_BATCH_SIZE, 8)
                .set(Setting.MAX_BATCH_WAIT_MS, 200)
                .start();
        client = new OnewayClient(system.vertx(), system.httpPort());
        side = system.modelDefaults().width();
    }

    @AfterAll
    static void stopSystem() {
        if (client != null) {
            client.close();
        }
        if (system != null) {
            system.close();
        }
    }

    static JsonObject prompt(String text) {
        return new JsonObject().put("prompt", text).put("width", side).put("height", side);
    }

    @Test
    void bothGeneratedModelsAreListedWithTheirLimitsAndWorkersAndAJobOnEachSucceeds() throws Exception {
        Reply listed = client.get(ALPHA_KEY, "/v1/models");
        assertEquals(200, listed.status(), listed.body().toString());
        assertEquals("tiny-sd15", listed.json().getString("defaultModel"));
        Map<String, JsonObject> models = new java.util.LinkedHashMap<>();
        listed.json().getJsonArray("models").forEach(o -> models.put(((JsonObject) o).getString("name"), (JsonObject) o));
        assertEquals(List.of("tiny-sd15", "tiny-sd21"), List.copyOf(models.keySet()));
        for (Map.Entry<String, JsonObject> e : models.entrySet()) {
            JsonObject model = e.getValue();
            dev.oneway.engine.ModelDefaults d = system.modelDefaults(e.getKey());
            assertEquals(2, model.getInteger("workers"), "ONEWAY_WORKER_INSTANCES consumers per model: " + model.encode());
            assertEquals("ready", model.getString("status"));
            assertEquals(e.getKey().endsWith("sd21") ? "sd21" : "sd15", model.getString("family"), "from the folder's configs");
            // the model allows its scheduler's timesteps; the worker announces them capped by ONEWAY_MAX_STEPS
            int maxSteps = Math.min(d.maxSteps(), system.config().getInt(Setting.MAX_STEPS));
            assertEquals(List.of(d.width(), d.height(), d.sizeMultiple(), d.maxSide(), d.steps(), maxSteps),
                    List.of(model.getInteger("nativeWidth"), model.getInteger("nativeHeight"), model.getInteger("sizeMultiple"),
                            model.getInteger("maxSide"), model.getInteger("defaultSteps"), model.getInteger("maxSteps")),
                    model.encode());
        }

        for (String model : models.keySet()) {
            Reply submitted = client.submit(ALPHA_KEY, new JsonObject().put("prompt", "a fox on " + model).put("model", model));
            assertEquals(202, submitted.status(), submitted.body().toString());
            JsonObject job = client.awaitFinished(ALPHA_KEY, submitted.json().getString("id"));
            assertEquals("succeeded", job.getString("status"), job.encode());
            assertEquals(model, job.getString("model"));
            assertEquals(models.get(model).getInteger("nativeWidth"), job.getJsonObject("result").getInteger("width"));
        }
        Reply unknown = client.submit(ALPHA_KEY, new JsonObject().put("prompt", "a fox").put("model", "sdxl"));
        assertEquals(400, unknown.status());
        assertTrue(unknown.body().toString().contains("tiny-sd15") && unknown.body().toString().contains("tiny-sd21"),
                unknown.body().toString());
    }

    @Test
    void twoTenantsSubmitTwentyJobsAtOnceAndEachSeesExactlyItsOwnJobsFinish() throws Exception {
        try (EventSocket alphaEvents = client.events(ALPHA_KEY); EventSocket betaEvents = client.events(BETA_KEY)) {
            List<Future<Reply>> submissions = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                submissions.add(client.submitAsync(ALPHA_KEY, prompt("alpha lighthouse " + i).put("seed", i)));
                submissions.add(client.submitAsync(BETA_KEY, prompt("beta meadow " + i).put("seed", 100 + i)));
            }
            Set<String> alphaJobs = new HashSet<>();
            Set<String> betaJobs = new HashSet<>();
            for (int i = 0; i < submissions.size(); i++) {
                Reply reply = OnewayClient.await(submissions.get(i));
                assertEquals(202, reply.status(), reply.body().toString());
                assertEquals("queued", reply.json().getString("status"));
                assertEquals("/v1/jobs/" + reply.json().getString("id"), reply.headers().get("Location"));
                (i % 2 == 0 ? alphaJobs : betaJobs).add(reply.json().getString("id"));
            }

            awaitSucceededEvents(alphaEvents, alphaJobs);
            awaitSucceededEvents(betaEvents, betaJobs);

            assertSeesOnly(alphaEvents, alphaJobs);
            assertSeesOnly(betaEvents, betaJobs);
            int largestBatch = 0;
            for (String id : alphaJobs) {
                assertEquals(List.of("job.queued", "job.started", "job.succeeded"), alphaEvents.lifecycleOf(id), "events of " + id);
                largestBatch = Math.max(largestBatch, assertImageDownloads(ALPHA_KEY, id));
            }
            for (String id : betaJobs) {
                assertEquals(List.of("job.queued", "job.started", "job.succeeded"), betaEvents.lifecycleOf(id), "events of " + id);
                largestBatch = Math.max(largestBatch, assertImageDownloads(BETA_KEY, id));
            }
            assertTrue(largestBatch > 1, "at least one engine batch held more than one job");
        }
    }

    @Test
    void theSamePromptAndSeedGiveIdenticalImages() {
        JsonObject request = prompt("a red bicycle against a blue wall").put("seed", 1234);
        String first = client.submit(ALPHA_KEY, request).json().getString("id");
        String second = client.submit(ALPHA_KEY, request).json().getString("id");
        assertNotEquals(first, second);

        byte[] firstPng = downloadImage(ALPHA_KEY, first);
        byte[] secondPng = downloadImage(ALPHA_KEY, second);
        assertArrayEquals(firstPng, secondPng);

        JsonObject otherSeed = prompt("a red bicycle against a blue wall").put("seed", 4321);
        byte[] otherPng = downloadImage(ALPHA_KEY, client.submit(ALPHA_KEY, otherSeed).json().getString("id"));
        assertFalse(java.util.Arrays.equals(firstPng, otherPng), "another seed gives another image");
    }

    @Test
    void aTaesdJobSucceedsWithAPngOfItsSizeDecodedByTheTinyDecoder() throws Exception {
        JsonObject request = prompt("a lighthouse on a cliff").put("seed", 77);
        String viaVae = client.submit(ALPHA_KEY, request.copy()).json().getString("id");
        Reply submitted = client.submit(ALPHA_KEY, request.copy().put("decoder", "taesd"));
        assertEquals(202, submitted.status(), submitted.body().toString());
        assertEquals("taesd", submitted.json().getString("decoder"));
        String viaTaesd = submitted.json().getString("id");

        byte[] taesdPng = downloadImage(ALPHA_KEY, viaTaesd);
        byte[] vaePng = downloadImage(ALPHA_KEY, viaVae);

        assertImageDownloads(ALPHA_KEY, viaTaesd);
        assertEquals("taesd", client.get(ALPHA_KEY, "/v1/jobs/" + viaTaesd).json().getString("decoder"));
        assertFalse(java.util.Arrays.equals(vaePng, taesdPng), "the same latents through another decoder");
    }

    @Test
    void aTenantCannotSeeOrCancelAnotherTenantsJob() {
        String id = client.submit(ALPHA_KEY, prompt("private")).json().getString("id");

        Reply peek = client.get(BETA_KEY, "/v1/jobs/" + id);
        assertEquals(404, peek.status());
        assertNotNull(peek.errorCode());
        assertEquals(404, client.get(BETA_KEY, "/v1/jobs/" + id + "/image").status());
        assertEquals(404, client.delete(BETA_KEY, "/v1/jobs/" + id).status());
        assertEquals(200, client.get(ALPHA_KEY, "/v1/jobs/" + id).status());
    }

    @Test
    void aMissingOrWrongKeyIsRejectedWith401OnHttpAndWebSocket() {
        Reply noKey = client.submit(null, prompt("anonymous"));
        assertEquals(401, noKey.status());
        assertNotNull(noKey.errorCode(), "errors come as {\"error\": {\"code\", \"message\"}}");
        assertEquals(401, client.submit("not-a-key", prompt("guessing")).status());
        assertEquals(401, client.get(null, "/v1/jobs/" + UUID.randomUUID()).status());
        assertEquals(401, client.get("not-a-key", "/v1/jobs/" + UUID.randomUUID()).status());

        for (Future<?> attempt : List.of(client.connectEvents(null, false), client.connectEvents("not-a-key", false),
                client.connectEvents("not-a-key", true))) {
            Exception e = assertThrows(IllegalStateException.class, () -> OnewayClient.await(attempt));
            UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, e.getCause());
            assertEquals(401, rejected.getStatus());
        }
        // The browser form of the key works.
        OnewayClient.await(client.connectEvents(BETA_KEY, true)).close();
    }

    @Test
    void twoWorkerVerticlesInOneGroupShareThePartitionsAndBothRunJobs() throws Exception {
        awaitBothWorkersOwnPartitions();
        List<Future<Reply>> submissions = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            submissions.add(client.submitAsync(BETA_KEY, prompt("shared load " + i)));
        }
        List<String> ids = new ArrayList<>();
        for (Future<Reply> submission : submissions) {
            ids.add(OnewayClient.await(submission).json().getString("id"));
        }
        Set<String> workers = new HashSet<>();
        for (String id : ids) {
            JsonObject job = client.awaitFinished(BETA_KEY, id);
            assertEquals("succeeded", job.getString("status"), job.encode());
            workers.add(job.getJsonObject("timings").getString("worker"));
        }
        assertEquals(2, workers.size(), "jobs ran on both workers: " + workers);
    }

    /** The group settles a few heartbeats after a worker joins; until then one member may hold every partition. */
    private static void awaitBothWorkersOwnPartitions() throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, system.config().get(Setting.KAFKA_BOOTSTRAP));
        String group = Topics.consumerGroup(system.config(), system.config().defaultModel());
        try (Admin admin = Admin.create(p)) {
            long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
            ConsumerGroupDescription d = null;
            while (System.nanoTime() < deadline) {
                d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                if (d.state() == ConsumerGroupState.STABLE && d.members().size() == 2
                        && d.members().stream().noneMatch(m -> m.assignment().topicPartitions().isEmpty())) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new AssertionError("the two workers never shared the partitions: " + d);
        }
    }

    @Test
    void aJobCanceledBeforeItStartsIsNeverRun() throws Exception {
        system.stopWorkers();
        String canceled;
        try (EventSocket events = client.events(ALPHA_KEY)) {
            canceled = client.submit(ALPHA_KEY, prompt("changed my mind")).json().getString("id");
            Reply cancel = client.delete(ALPHA_KEY, "/v1/jobs/" + canceled);
            assertTrue(cancel.status() == 200 || cancel.status() == 202, cancel.body().toString());
            assertEquals("canceled", client.get(ALPHA_KEY, "/v1/jobs/" + canceled).json().getString("status"));

            system.startWorkers();
            String after = client.submit(ALPHA_KEY, prompt("still wanted")).json().getString("id");
            assertEquals("succeeded", client.awaitFinished(ALPHA_KEY, after).getString("status"));

            events.awaitUntil("the later job succeed", s -> s.lifecycleOf(after).contains("job.succeeded"));
            assertEquals(List.of("job.queued", "job.canceled"), events.lifecycleOf(canceled));
        } finally {
            system.startWorkers();
        }
        assertEquals("canceled", client.get(ALPHA_KEY, "/v1/jobs/" + canceled).json().getString("status"));
        assertEquals(404, client.get(ALPHA_KEY, "/v1/jobs/" + canceled + "/image").status(), "a canceled job has no image");
        assertNoObject(Topics.imageObjectKey("alpha", canceled));
    }

    @Test
    void theSameIdempotencyKeyTwiceReturnsTheSameJobAndRunsItOnce() {
        try (EventSocket events = client.events(BETA_KEY)) {
            String key = "retry-" + UUID.randomUUID();
            Reply first = client.submit(BETA_KEY, prompt("exactly once"), key);
            Reply second = client.submit(BETA_KEY, prompt("exactly once"), key);
            assertEquals(202, first.status());
            assertTrue(second.status() == 200 || second.status() == 202, second.body().toString());
            String id = first.json().getString("id");
            assertEquals(id, second.json().getString("id"));

            assertEquals("succeeded", client.awaitFinished(BETA_KEY, id).getString("status"));
            events.awaitUntil("the job succeed", s -> s.lifecycleOf(id).contains("job.succeeded"));
            assertEquals(List.of("job.queued", "job.started", "job.succeeded"), events.lifecycleOf(id));
        }
    }

    @Test
    void aGatewayRestartedMidRunStillAnswersForEarlierJobs() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(client.submit(ALPHA_KEY, prompt("before the restart " + i)).json().getString("id"));
        }
        system.restartGateway();
        for (String id : ids) {
            Reply reply = client.get(ALPHA_KEY, "/v1/jobs/" + id);
            assertEquals(200, reply.status(), reply.body().toString());
            assertEquals("before the restart " + ids.indexOf(id), reply.json().getString("prompt"));
        }
        for (String id : ids) {
            assertEquals("succeeded", client.awaitFinished(ALPHA_KEY, id).getString("status"));
        }
    }

    private static void awaitSucceededEvents(EventSocket events, Set<String> ids) {
        events.awaitUntil("all of " + ids + " succeed",
                s -> ids.stream().allMatch(id -> s.lifecycleOf(id).contains("job.succeeded")));
    }

    private static void assertSeesOnly(EventSocket events, Set<String> ids) {
        Set<String> seen = new HashSet<>();
        events.frames().forEach(f -> seen.add(f.getString("id")));
        assertEquals(ids, seen, "a tenant's socket carries its own jobs' events and nothing else");
    }

    /** Downloads the job's PNG from its presigned URL, checks it, and returns the job's batch size. */
    private static int assertImageDownloads(String apiKey, String id) throws Exception {
        JsonObject job = client.get(apiKey, "/v1/jobs/" + id).json();
        assertEquals("succeeded", job.getString("status"));
        JsonObject result = job.getJsonObject("result");
        assertEquals("image/png", result.getString("contentType"));
        Reply png = client.download(result.getString("url"));
        assertEquals(200, png.status());
        assertEquals(result.getLong("bytes"), png.body().length());
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png.body().getBytes()));
        assertNotNull(image, "the object is a PNG");
        assertEquals(job.getInteger("width"), image.getWidth());
        assertEquals(job.getInteger("height"), image.getHeight());
        return job.getInteger("batchSize");
    }

    private static byte[] downloadImage(String apiKey, String id) {
        JsonObject job = client.awaitFinished(apiKey, id);
        assertEquals("succeeded", job.getString("status"), job.encode());
        Reply redirect = client.get(apiKey, "/v1/jobs/" + id + "/image");
        assertEquals(302, redirect.status());
        Reply png = client.download(redirect.headers().get("Location"));
        assertEquals(200, png.status());
        return png.body().getBytes();
    }

    private static void assertNoObject(String key) throws Exception {
        MinioClient minio = MinioClient.builder().endpoint(system.config().get(Setting.S3_ENDPOINT))
                .region(system.config().get(Setting.S3_REGION))
                .credentials(system.config().get(Setting.S3_ACCESS_KEY), system.config().get(Setting.S3_SECRET_KEY)).build();
        ErrorResponseException e = assertThrows(ErrorResponseException.class, () -> minio.statObject(
                StatObjectArgs.builder().bucket(system.config().get(Setting.S3_BUCKET)).object(key).build()));
        assertEquals("NoSuchKey", e.errorResponse().code());
    }
}
