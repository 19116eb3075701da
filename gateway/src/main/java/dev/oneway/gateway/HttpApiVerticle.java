package dev.oneway.gateway;

import dev.oneway.common.CachedProbe;
import dev.oneway.common.ErrorInfo;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's share of the gateway: an HTTP server on the gateway's port with the API's routes and its own
 * {@link EventHub} for the WebSocket clients it accepted. Everything it keeps for itself lives on its event loop;
 * what it shares with the other instances is in {@link GatewayVerticle.Shared}.
 */
final class HttpApiVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(HttpApiVerticle.class);

    private final GatewayVerticle.Shared shared;
    private final int port;
    private volatile int actualPort = -1;
    private volatile Router router;
    private HttpServer server;
    private EventHub hub;
    private CachedProbe kafkaProbe;
    private CachedProbe s3Probe;

    HttpApiVerticle(GatewayVerticle.Shared shared, int port) {
        this.shared = shared;
        this.port = port;
    }

    int actualPort() {
        return actualPort;
    }

    Router router() {
        return router;
    }

    @Override
    public Future<?> start() {
        var config = shared.config();
        kafkaProbe = CachedProbe.kafka(shared.admin(), context);
        s3Probe = CachedProbe.s3(vertx, config);
        hub = new EventHub(vertx, shared.view(), shared.viewReader(), shared.links(), config.getInt(Setting.WS_PING_INTERVAL_MS),
                config.getInt(Setting.WS_WRITE_QUEUE_BYTES), config.getInt(Setting.WS_MAX_MESSAGE_BYTES), shared.metrics());
        shared.viewReader().addListener(context, hub::publish);
        router = buildRouter(new JobRoutes(shared));
        int maxMessage = config.getInt(Setting.WS_MAX_MESSAGE_BYTES);
        // HTTP/2 over cleartext is off on purpose: the JDK's HttpClient asks for it by default (an h2c upgrade), and
        // with it a request after an oversized header got no answer at all. The upgrade is declined, so every client
        // is served HTTP/1.1 on the same connection; TLS (and so h2) belongs to the ingress in front of the gateway.
        HttpServerOptions options = new HttpServerOptions()
                .setHttp2ClearTextEnabled(false)
                .setMaxWebSocketFrameSize(maxMessage)
                .setMaxWebSocketMessageSize(maxMessage);
        return vertx.createHttpServer(options)
                .requestHandler(Responses.rejectingMalformedUris(router))
                .invalidRequestHandler(Responses::invalidRequest)
                .listen(port)
                .onSuccess(listening -> {
                    server = listening;
                    actualPort = listening.actualPort();
                });
    }

    /** Stops accepting, tells every WebSocket client it is going away, and lets requests in flight finish. */
    @Override
    public Future<?> stop() {
        shared.viewReader().removeListener(context);
        Future<Void> drained = server == null ? Future.succeededFuture()
                : server.shutdown(shared.config().getInt(Setting.SHUTDOWN_GRACE_MS), TimeUnit.MILLISECONDS);
        return hub.closeAll().compose(v -> drained);
    }

    private Router buildRouter(JobRoutes jobs) {
        Router router = Router.router(vertx);
        router.route().failureHandler(Responses::handle);
        router.errorHandler(404, Responses::handle);
        router.errorHandler(405, Responses::handle);
        router.errorHandler(500, Responses::handle);

        router.get("/openapi.yaml").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/yaml; charset=utf-8")
                .putHeader("Access-Control-Allow-Origin", "*")
                .end(shared.api().yaml()));
        router.get("/").handler(new PlaygroundPage());

        router.get("/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("status", "up")));
        router.get("/health/ready").handler(this::ready);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("Content-Type", PrometheusMetrics.CONTENT_TYPE)
                .end(shared.metrics().scrape()));

        router.route("/v1/*").handler(this::requireCaughtUp);
        router.get("/v1/events").handler(this::openEvents);
        router.route("/v1/jobs*").handler(shared.apiKeys()::requireKey);
        router.get("/v1/models").handler(shared.apiKeys()::requireKey).handler(jobs::listModels);
        // A route of its own, because Vert.x Web wants the body handler first on a route, and the
        // content type is checked before any body is read.
        router.post("/v1/jobs").handler(jobs::requireJson);
        router.post("/v1/jobs")
                .handler(BodyHandler.create(false).setBodyLimit(shared.config().getInt(Setting.MAX_BODY_BYTES)))
                .handler(jobs::submit);
        router.get("/v1/jobs/:id").handler(jobs::get);
        router.get("/v1/jobs/:id/image").handler(jobs::image);
        router.delete("/v1/jobs/:id").handler(jobs::cancel);
        router.get("/v1/webhook-secret").handler(shared.apiKeys()::requireKey).handler(jobs::webhookSecret);
        return router;
    }

    /** A gateway still replaying would answer 404 for jobs it has not read yet; it says so instead. */
    private void requireCaughtUp(RoutingContext ctx) {
        if (!shared.view().caughtUp()) {
            throw ApiError.unavailable("starting", "the gateway is still reading job events; retry shortly", 1);
        }
        ctx.next();
    }

    /** The key is checked before the upgrade, so a bad key gets a plain 401 and never a socket. */
    private void openEvents(RoutingContext ctx) {
        String tenant = shared.apiKeys().tenantOf(ctx.request(), true);
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
        JobView view = shared.view();
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
