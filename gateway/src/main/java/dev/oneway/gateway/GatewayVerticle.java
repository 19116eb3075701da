package dev.oneway.gateway;

import dev.oneway.common.CachedProbe;
import dev.oneway.common.ErrorInfo;
import dev.oneway.common.JobEvent;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.PrometheusMetrics;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway: the HTTP API and the WebSocket endpoint on one event loop, with a {@link JobViewVerticle}
 * deployed beside it to read the events topic. Deployment completes once the server listens and the
 * job view has replayed the events topic, so a deployed gateway answers for every earlier job.
 */
public final class GatewayVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(GatewayVerticle.class);

    private final OnewayConfig config;
    /** Names this instance's Kafka clients and event-bus address, so gateways can share a JVM. */
    private final String instanceId = UUID.randomUUID().toString();
    private final JobView view = new JobView();
    private final GatewayMetrics metrics = new GatewayMetrics();
    private volatile int actualPort = -1;
    private Admin admin;
    private ModelCatalog models;
    private JobSubmitter submitter;
    private ApiKeys apiKeys;
    private EventHub hub;
    private HttpServer server;
    private CachedProbe kafkaProbe;
    private CachedProbe s3Probe;
    private Router router;

    public GatewayVerticle(OnewayConfig config) {
        this.config = config;
    }

    /** The port the HTTP server listens on (useful with ONEWAY_HTTP_PORT=0); -1 before it listens. */
    public int actualPort() {
        return actualPort;
    }

    /** The routes this gateway serves (tests compare them with the OpenAPI document); null before start. */
    Router router() {
        return router;
    }

    @Override
    public Future<?> start() {
        return ApiDocument.load(vertx, config).compose(this::start);
    }

    private Future<?> start(ApiDocument api) {
        // Configuration mistakes surface here, before any Kafka client exists that would need closing.
        apiKeys = new ApiKeys(config.apiKeys());
        SubmissionRules rules = new SubmissionRules(api);
        ImageLinks links = new ImageLinks(vertx, config);
        admin = KafkaClients.admin(config, "oneway-gateway-admin-" + instanceId);
        kafkaProbe = CachedProbe.kafka(admin, context);
        s3Probe = CachedProbe.s3(vertx, config);
        submitter = new JobSubmitter(vertx, config, "oneway-gateway-" + instanceId);
        String fanOut = "oneway.gateway." + instanceId + ".events";
        JobViewVerticle viewReader = new JobViewVerticle(config, view, "oneway-gateway-view-" + instanceId, fanOut);
        hub = new EventHub(vertx, view, viewReader, links, config.getInt(Setting.WS_PING_INTERVAL_MS), metrics);
        vertx.eventBus().<JsonObject>localConsumer(fanOut, message -> hub.publish(JobEvent.fromJson(message.body())));
        models = new ModelCatalog(config, "oneway-gateway-models-" + instanceId);
        router = buildRouter(new JobRoutes(config, rules, models, view, viewReader, submitter, links, metrics), api);
        // HTTP/2 over cleartext is off on purpose: the JDK's HttpClient asks for it by default (an h2c upgrade), and
        // with it a request after an oversized header got no answer at all. The upgrade is declined, so every client
        // is served HTTP/1.1 on the same connection; TLS (and so h2) belongs to the ingress in front of the gateway.
        HttpServerOptions options = new HttpServerOptions()
                .setHttp2ClearTextEnabled(false)
                .setMaxWebSocketFrameSize(64 * 1024)
                .setMaxWebSocketMessageSize(64 * 1024);
        return KafkaClients.ensureTopics(admin, config, context)
                .compose(v -> vertx.createHttpServer(options)
                        .requestHandler(Responses.rejectingMalformedUris(router))
                        .invalidRequestHandler(Responses::invalidRequest)
                        .listen(config.getInt(Setting.HTTP_PORT)))
                .compose(listening -> {
                    server = listening;
                    actualPort = listening.actualPort();
                    log.info("gateway listening on port {}; replaying job events and model announcements", actualPort);
                    return Future.fromCompletionStage(models.start(), context)
                            .compose(v -> vertx.deployVerticle(viewReader));
                })
                .onSuccess(id -> log.info("gateway ready on port {}", actualPort))
                .recover(err -> closeClients().transform(ar -> Future.failedFuture(err)));
    }

    /**
     * Stops accepting connections, sends every WebSocket client a close frame (1001, going away) and lets requests
     * in flight finish within ONEWAY_SHUTDOWN_GRACE_MS; the view verticle is undeployed with it.
     */
    @Override
    public Future<?> stop() {
        Future<Void> drained = server == null ? Future.succeededFuture()
                : server.shutdown(config.getInt(Setting.SHUTDOWN_GRACE_MS), TimeUnit.MILLISECONDS);
        return hub.closeAll().compose(v -> drained).eventually(this::closeClients);
    }

    private Future<Void> closeClients() {
        Future<Void> serverClosed = server == null ? Future.succeededFuture() : server.close();
        Future<Void> adminClosed = vertx.executeBlocking(() -> {
            admin.close(Duration.ofSeconds(5));
            return null;
        });
        Future<Void> modelsClosed = vertx.executeBlocking(() -> {
            models.close();
            return null;
        });
        return Future.join(serverClosed, submitter.close(), adminClosed, modelsClosed).mapEmpty();
    }

    private Router buildRouter(JobRoutes jobs, ApiDocument api) {
        Router router = Router.router(vertx);
        router.route().failureHandler(Responses::handle);
        router.errorHandler(404, Responses::handle);
        router.errorHandler(405, Responses::handle);
        router.errorHandler(500, Responses::handle);

        router.get("/openapi.yaml").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/yaml; charset=utf-8")
                .putHeader("Access-Control-Allow-Origin", "*")
                .end(api.yaml()));
        router.get("/").handler(StaticHandler.create("playground"));

        router.get("/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("status", "up")));
        router.get("/health/ready").handler(this::ready);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("Content-Type", PrometheusMetrics.CONTENT_TYPE)
                .end(metrics.scrape()));

        router.route("/v1/*").handler(this::requireCaughtUp);
        router.get("/v1/events").handler(this::openEvents);
        router.route("/v1/jobs*").handler(apiKeys::requireKey);
        router.get("/v1/models").handler(apiKeys::requireKey).handler(jobs::listModels);
        // A route of its own, because Vert.x Web wants the body handler first on a route, and the
        // content type is checked before any body is read.
        router.post("/v1/jobs").handler(jobs::requireJson);
        router.post("/v1/jobs")
                .handler(BodyHandler.create(false).setBodyLimit(config.getInt(Setting.MAX_BODY_BYTES)))
                .handler(jobs::submit);
        router.get("/v1/jobs/:id").handler(jobs::get);
        router.get("/v1/jobs/:id/image").handler(jobs::image);
        router.delete("/v1/jobs/:id").handler(jobs::cancel);
        return router;
    }

    /** A gateway still replaying would answer 404 for jobs it has not read yet; it says so instead. */
    private void requireCaughtUp(RoutingContext ctx) {
        if (!view.caughtUp()) {
            throw ApiError.unavailable("starting", "the gateway is still reading job events; retry shortly", 1);
        }
        ctx.next();
    }

    /** The key is checked before the upgrade, so a bad key gets a plain 401 and never a socket. */
    private void openEvents(RoutingContext ctx) {
        String tenant = apiKeys.tenantOf(ctx.request(), true);
        if (!ctx.request().canUpgradeToWebSocket()) {
            throw ApiError.invalid("/v1/events is a WebSocket endpoint; send an upgrade request");
        }
        ctx.request().toWebSocket()
                .onSuccess(socket -> hub.join(socket, tenant))
                .onFailure(err -> log.debug("WebSocket upgrade failed: {}", err.toString()));
    }

    private void ready(RoutingContext ctx) {
        Future<Void> kafka = kafkaProbe.check();
        Future<Void> s3 = s3Probe.check();
        Future.join(kafka, s3).onComplete(ar -> {
            JsonObject checks = new JsonObject()
                    .put("kafka", kafka.succeeded() ? "up" : "down")
                    .put("s3", s3.succeeded() ? "up" : "down")
                    .put("jobView", view.caughtUp() ? "caught_up" : "replaying");
            List<String> problems = new ArrayList<>();
            if (kafka.failed()) {
                problems.add("Kafka is not reachable");
            }
            if (s3.failed()) {
                problems.add("S3 is not reachable");
            }
            if (!view.caughtUp()) {
                problems.add("the gateway is still reading job events");
            }
            if (problems.isEmpty()) {
                Responses.json(ctx, 200, new JsonObject().put("status", "ready").put("checks", checks));
            } else {
                ErrorInfo notReady = new ErrorInfo("not_ready", String.join("; ", problems));
                Responses.json(ctx, 503, notReady.toBody().put("checks", checks));
            }
        });
    }
}
