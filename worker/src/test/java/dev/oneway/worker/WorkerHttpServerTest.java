package dev.oneway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import dev.oneway.embedded.EmbeddedKafka;
import dev.oneway.embedded.EmbeddedS3;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's health and metrics server against a real broker and S3 server: ready only while Kafka and S3
 * answer and the model is loaded, and saying which check failed when it is not.
 */
class WorkerHttpServerTest {

    private static final Duration PATIENCE = Duration.ofMinutes(2);

    @TempDir
    static Path dataDir;
    static EmbeddedKafka kafka;
    static EmbeddedS3 s3;
    static Vertx vertx;
    static Context clientContext;
    static HttpClient http;
    static WorkerHttpServer server;

    record Reply(int status, String contentType, String body) {
        JsonObject json() {
            return new JsonObject(body);
        }
    }

    @BeforeAll
    static void start() {
        kafka = new EmbeddedKafka(dataDir).start();
        s3 = new EmbeddedS3(dataDir, "oneway", "oneway-secret").start();
        String run = UUID.randomUUID().toString().substring(0, 8);
        OnewayConfig config = OnewayConfig.from(Map.of())
                .with(Setting.KAFKA_BOOTSTRAP, kafka.bootstrapServers())
                .with(Setting.JOBS_TOPIC, "jobs-" + run)
                .with(Setting.CONSUMER_GROUP, "workers-" + run)
                .with(Setting.S3_ENDPOINT, s3.endpoint())
                .with(Setting.WORKER_HTTP_PORT, 0);
        for (String jobsTopic : Topics.jobs(config)) {
            kafka.createTopic(jobsTopic, 2);
        }
        vertx = Vertx.vertx();
        clientContext = vertx.getOrCreateContext();
        http = vertx.createHttpClient();
        server = new WorkerHttpServer(config, new WorkerMetrics());
        await(vertx.deployVerticle(server));
    }

    @AfterAll
    static void stop() {
        if (vertx != null) {
            await(vertx.close());
        }
        s3.close();
        kafka.close();
    }

    @Test
    void readinessWaitsForTheModelThenFollowsKafkaAndS3() {
        Reply live = get("/health/live");
        assertEquals(200, live.status());
        assertEquals("up", live.json().getString("status"));

        Reply loading = get("/health/ready");
        assertEquals(503, loading.status());
        assertEquals("not_ready", loading.json().getJsonObject("error").getString("code"));
        assertEquals("the model is still loading", loading.json().getJsonObject("error").getString("message"));
        assertEquals(checks("up", "up", "loading"), loading.json().getJsonObject("checks"));

        server.modelLoaded();
        Reply ready = get("/health/ready");
        assertEquals(200, ready.status(), ready.body());
        assertEquals(new JsonObject().put("status", "ready").put("checks", checks("up", "up", "loaded")), ready.json());

        s3.stop();
        try {
            Reply noS3 = awaitReady(reply -> reply.status() == 503);
            assertEquals(checks("up", "down", "loaded"), noS3.json().getJsonObject("checks"));
            assertEquals("S3 is not reachable", noS3.json().getJsonObject("error").getString("message"));
        } finally {
            s3.start();
        }
        awaitReady(reply -> reply.status() == 200);

        kafka.stop();
        try {
            Reply noKafka = awaitReady(reply -> reply.status() == 503);
            assertEquals(checks("down", "up", "loaded"), noKafka.json().getJsonObject("checks"));
            assertEquals("Kafka is not reachable", noKafka.json().getJsonObject("error").getString("message"));
            Reply metrics = get("/metrics");
            assertEquals(200, metrics.status(), "metrics are served while Kafka is away");
            assertTrue(metrics.body().contains("\noneway_queue_lag_records NaN\n"), "an unknown lag is NaN, not 0");
        } finally {
            kafka.start();
        }
        awaitReady(reply -> reply.status() == 200);
    }

    @Test
    void unknownPathsAndMethodsGetTheCommonErrorFormat() {
        Reply missing = get("/v1/jobs");
        assertEquals(404, missing.status());
        assertEquals("not_found", missing.json().getJsonObject("error").getString("code"));
        assertEquals("application/json; charset=utf-8", missing.contentType());

        Reply post = send(HttpMethod.POST, "/metrics");
        assertEquals(405, post.status());
        assertEquals("method_not_allowed", post.json().getJsonObject("error").getString("code"));
    }

    private static JsonObject checks(String kafka, String s3, String model) {
        return new JsonObject().put("kafka", kafka).put("s3", s3).put("model", model);
    }

    /** Readiness probes are cached for a second, so a change shows on a later ask. */
    private static Reply awaitReady(Predicate<Reply> condition) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        Reply last = null;
        while (System.nanoTime() < deadline) {
            last = get("/health/ready");
            if (condition.test(last)) {
                return last;
            }
            sleep(200);
        }
        throw new AssertionError("readiness never reached the expected answer; last: " + last);
    }

    private static Reply get(String path) {
        return send(HttpMethod.GET, path);
    }

    /** On one client context, so the response handlers are set on the thread that delivers the response. */
    private static Reply send(HttpMethod method, String path) {
        Promise<Reply> reply = Promise.promise();
        RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1")
                .setPort(server.actualPort()).setURI(path);
        clientContext.runOnContext(v -> http.request(options)
                .compose(request -> request.send())
                .compose(response -> response.body().map(body ->
                        new Reply(response.statusCode(), response.getHeader("Content-Type"), body.toString())))
                .onComplete(reply));
        return await(reply.future());
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
