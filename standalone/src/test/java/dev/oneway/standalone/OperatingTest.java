package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.PrometheusMetrics;
import dev.oneway.common.Setting;
import dev.oneway.standalone.OnewayClient.EventSocket;
import dev.oneway.standalone.OnewayClient.Reply;
import dev.oneway.worker.ImageEngine;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoublePredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator sees of a running system: the gateway's and the worker's /metrics and health endpoints,
 * scraped over HTTP after jobs went through the real gateway, broker, worker and S3 server.
 */
class OperatingTest {

    static final String KEY = "key-ops";
    static final String TENANT = "ops";
    static final String EXPLODING_PROMPT = "the engine refuses this prompt";
    static final List<String> STAGES = List.of("text", "encoder", "decoder", "scheduler", "vae", "png");

    @TempDir
    static Path dataDir;
    static OnewaySystem system;
    static OnewayClient client;

    @BeforeAll
    static void startSystem() {
        system = OnewaySystem.builder()
                .dataDir(dataDir)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.API_KEYS, TENANT + ":" + KEY)
                .set(Setting.JOBS_PARTITIONS, 2)
                .set(Setting.MAX_BATCH_SIZE, 8)
                .set(Setting.MAX_BATCH_WAIT_MS, 200)
                .wrapEngine(OperatingTest::refusingOnePrompt)
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
    }

    @Test
    void metricsOfGatewayAndWorkerCountExactlyWhatHappenedToATenantsJobs() {
        List<Future<Reply>> submissions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            submissions.add(client.submitAsync(KEY, job("a quiet harbour " + i)));
        }
        submissions.add(client.submitAsync(KEY, job(EXPLODING_PROMPT)));
        List<String> statuses = new ArrayList<>();
        for (Future<Reply> submission : submissions) {
            Reply reply = OnewayClient.await(submission);
            assertEquals(202, reply.status(), reply.body().toString());
            statuses.add(client.awaitFinished(KEY, reply.json().getString("id")).getString("status"));
        }
        assertEquals(List.of("succeeded", "succeeded", "succeeded", "failed"), statuses);

        // A fifth job is canceled while no worker runs: its record waits in the jobs topic, uncommitted.
        system.stopWorkers();
        String canceled = client.submit(KEY, job("never drawn")).json().getString("id");
        assertEquals("canceled", client.delete(KEY, "/v1/jobs/" + canceled).json().getString("status"));
        assertEquals(1, workerMetrics().count("oneway_queue_lag_records"), "the canceled job's record is the backlog");
        system.startWorkers();
        awaitWorkerMetrics("the workers to pass over the canceled job and commit",
                "oneway_queue_lag_records", lag -> lag == 0);

        PrometheusScrape gateway = gatewayMetrics();
        assertEquals(5, gateway.count("oneway_jobs_accepted_total", "tenant", TENANT));
        assertEquals(1, gateway.count("oneway_jobs_canceled_total", "tenant", TENANT));

        PrometheusScrape worker = workerMetrics();
        assertEquals(3, worker.count("oneway_jobs_succeeded_total", "tenant", TENANT));
        assertEquals(1, worker.count("oneway_jobs_failed_total", "tenant", TENANT, "code", "attempts_exhausted"));
        assertEquals(1, worker.count("oneway_jobs_failed_total", "tenant", TENANT), "one failure in all");
        // Only engine calls that produced images are counted: the three good jobs, in one or more batches.
        double batches = worker.count("oneway_batch_size_count");
        assertTrue(batches >= 1 && batches <= 3, "batches: " + batches);
        assertEquals(3, worker.count("oneway_batch_size_sum"));
        assertEquals(batches, worker.count("oneway_batch_size_bucket", "le", "8.0"));
        assertEquals(batches, worker.count("oneway_engine_batch_seconds_count"));
        for (String stage : STAGES) {
            assertEquals(batches, worker.count("oneway_engine_stage_seconds_count", "stage", stage), stage);
            assertNotNull(worker.value("oneway_engine_stage_seconds_sum", "stage", stage), stage);
        }
        assertEquals(3, worker.count("oneway_image_upload_seconds_count"));
        int attempts = Integer.parseInt(Setting.MAX_ATTEMPTS.defaultValue());
        assertEquals(3 + attempts, worker.count("oneway_job_queue_wait_seconds_count"),
                "every attempt that reached the engine: three good jobs, the failing one each time it was queued");
        // Each endpoint shows its own component's meters (and the JVM's).
        assertEquals(null, gateway.value("oneway_jobs_succeeded_total", "tenant", TENANT));
        assertEquals(null, worker.value("oneway_jobs_accepted_total", "tenant", TENANT));
        assertNotNull(worker.value("jvm_threads_live_threads"));
    }

    @Test
    void theWebSocketGaugeCountsOpenEventConnections() {
        double before = gatewayMetrics().count("oneway_websocket_connections");
        EventSocket socket = client.events(KEY);
        awaitGatewayMetrics("the new connection to count", "oneway_websocket_connections", n -> n == before + 1);
        socket.close();
        awaitGatewayMetrics("the closed connection to be gone", "oneway_websocket_connections", n -> n == before);
    }

    @Test
    void gatewayAndWorkerAreLiveAndReadyWithEverythingUp() {
        Reply workerLive = client.download(system.workerBaseUrl() + "/health/live");
        assertEquals(200, workerLive.status());
        assertEquals("up", workerLive.json().getString("status"));

        Reply worker = client.download(system.workerBaseUrl() + "/health/ready");
        assertEquals(200, worker.status(), worker.body().toString());
        assertEquals(new JsonObject(Map.of("kafka", "up", "s3", "up", "model", "loaded")),
                worker.json().getJsonObject("checks"));

        Reply gateway = client.download(system.baseUrl() + "/health/ready");
        assertEquals(200, gateway.status(), gateway.body().toString());
        assertEquals(new JsonObject(Map.of("kafka", "up", "s3", "up", "jobView", "caught_up")),
                gateway.json().getJsonObject("checks"));

        Reply metrics = client.download(system.workerBaseUrl() + "/metrics");
        assertEquals(PrometheusMetrics.CONTENT_TYPE, metrics.headers().get("Content-Type"));
        Reply unknown = client.download(system.workerBaseUrl() + "/nothing-here");
        assertEquals(404, unknown.status());
        assertEquals("not_found", unknown.errorCode());
    }

    private static PrometheusScrape gatewayMetrics() {
        return scrape(system.baseUrl() + "/metrics");
    }

    private static PrometheusScrape workerMetrics() {
        return scrape(system.workerBaseUrl() + "/metrics");
    }

    private static PrometheusScrape scrape(String url) {
        Reply reply = client.download(url);
        assertEquals(200, reply.status(), url);
        return new PrometheusScrape(reply.body().toString());
    }

    private static void awaitGatewayMetrics(String what, String name, DoublePredicate condition) {
        awaitMetric(what, OperatingTest::gatewayMetrics, name, condition);
    }

    private static void awaitWorkerMetrics(String what, String name, DoublePredicate condition) {
        awaitMetric(what, OperatingTest::workerMetrics, name, condition);
    }

    private static void awaitMetric(String what, java.util.function.Supplier<PrometheusScrape> scrape, String name,
                                    DoublePredicate condition) {
        long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
        double last = Double.NaN;
        while (System.nanoTime() < deadline) {
            last = scrape.get().count(name);
            if (condition.test(last)) {
                return;
            }
            OnewayClient.sleep(100);
        }
        throw new AssertionError("waited for " + what + "; " + name + " stayed " + last);
    }

    private static JsonObject job(String prompt) {
        int side = system.modelDefaults().width();
        return new JsonObject().put("prompt", prompt).put("width", side).put("height", side);
    }

    /** The real engine, except that a batch holding one chosen prompt fails as a broken model would. */
    private static ImageEngine refusingOnePrompt(ImageEngine engine) {
        return Engines.beforeEachBatch(engine, batch -> {
            if (batch.stream().anyMatch(r -> r.prompt().equals(EXPLODING_PROMPT))) {
                throw new IllegalStateException("this engine cannot draw '" + EXPLODING_PROMPT + "'");
            }
        });
    }
}
