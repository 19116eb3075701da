package dev.oneway.worker;

import dev.oneway.common.CachedProbe;
import dev.oneway.common.ErrorInfo;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.PrometheusMetrics;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker process's own HTTP server on ONEWAY_WORKER_HTTP_PORT: /health/live, /health/ready and /metrics.
 * It lives as long as the process and starts before the model loads, so an orchestrator sees a live worker
 * that is not ready yet while a large model is read. Answers are JSON in the common error format, except the
 * Prometheus text of /metrics.
 */
public final class WorkerHttpServer extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerHttpServer.class);

    private final OnewayConfig config;
    private final WorkerMetrics metrics;
    private volatile boolean modelLoaded;
    private volatile int actualPort = -1;
    private Admin admin;
    private CachedProbe kafkaProbe;
    private CachedProbe s3Probe;
    private QueueLag queueLag;
    private HttpServer server;

    public WorkerHttpServer(OnewayConfig config, WorkerMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
    }

    /** Readiness waits for this: call it once the engine has loaded the model. */
    public void modelLoaded() {
        modelLoaded = true;
    }

    /** The port it listens on (useful with ONEWAY_WORKER_HTTP_PORT=0); -1 before it listens. */
    public int actualPort() {
        return actualPort;
    }

    @Override
    public Future<?> start() {
        admin = Admin.create(KafkaSettings.admin(config, "oneway-worker-http-" + UUID.randomUUID()));
        kafkaProbe = CachedProbe.kafka(admin, context);
        s3Probe = CachedProbe.s3(vertx, config);
        queueLag = new QueueLag(admin, context, config);
        return vertx.createHttpServer()
                .requestHandler(this::handle)
                .listen(config.getInt(Setting.WORKER_HTTP_PORT))
                .onSuccess(listening -> {
                    server = listening;
                    actualPort = listening.actualPort();
                    LOG.info("Worker health and metrics on port {}", actualPort);
                })
                .recover(err -> closeAdmin().transform(ar -> Future.failedFuture(err)));
    }

    @Override
    public Future<?> stop() {
        return Future.join(server == null ? Future.succeededFuture() : server.close(), closeAdmin());
    }

    private Future<Void> closeAdmin() {
        return vertx.executeBlocking(() -> {
            admin.close(Duration.ofSeconds(5));
            return null;
        });
    }

    private void handle(HttpServerRequest request) {
        String path = request.path();
        boolean known = List.of("/health/live", "/health/ready", "/metrics").contains(path);
        if (!known) {
            json(request, 404, new ErrorInfo("not_found", "no such endpoint: " + request.method() + " " + path).toBody());
        } else if (request.method() != HttpMethod.GET) {
            json(request, 405, new ErrorInfo("method_not_allowed", request.method() + " is not supported on " + path).toBody());
        } else if (path.equals("/health/live")) {
            json(request, 200, new JsonObject().put("status", "up"));
        } else if (path.equals("/health/ready")) {
            ready(request);
        } else {
            scrape(request);
        }
    }

    private void ready(HttpServerRequest request) {
        Future<Void> kafka = kafkaProbe.check();
        Future<Void> s3 = s3Probe.check();
        boolean model = modelLoaded;
        Future.join(kafka, s3).onComplete(ar -> {
            JsonObject checks = new JsonObject()
                    .put("kafka", kafka.succeeded() ? "up" : "down")
                    .put("s3", s3.succeeded() ? "up" : "down")
                    .put("model", model ? "loaded" : "loading");
            List<String> problems = new ArrayList<>();
            if (kafka.failed()) {
                problems.add("Kafka is not reachable");
            }
            if (s3.failed()) {
                problems.add("S3 is not reachable");
            }
            if (!model) {
                problems.add("the model is still loading");
            }
            if (problems.isEmpty()) {
                json(request, 200, new JsonObject().put("status", "ready").put("checks", checks));
            } else {
                json(request, 503, new ErrorInfo("not_ready", String.join("; ", problems)).toBody().put("checks", checks));
            }
        });
    }

    /** The lag is measured as Prometheus asks for it, so it is as fresh as the scrape. */
    private void scrape(HttpServerRequest request) {
        queueLag.measure().onComplete(lag -> {
            metrics.queueLag(lag.succeeded() ? lag.result() : Double.NaN);
            if (lag.failed()) {
                LOG.debug("Queue lag not measured: {}", lag.cause().toString());
            }
            request.response()
                    .putHeader("Content-Type", PrometheusMetrics.CONTENT_TYPE)
                    .putHeader("Cache-Control", "no-store")
                    .end(metrics.scrape());
        });
    }

    private static void json(HttpServerRequest request, int status, JsonObject body) {
        request.response().setStatusCode(status)
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .putHeader("Cache-Control", "no-store")
                .end(body.encode());
    }
}
