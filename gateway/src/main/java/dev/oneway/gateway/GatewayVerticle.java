package dev.oneway.gateway;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway: {@link HttpApiVerticle}s serving the HTTP API and the WebSocket endpoint, one per event loop
 * (ONEWAY_HTTP_INSTANCES, default one per core) on one shared port, over what they share: one {@link JobView} that
 * a {@link JobViewVerticle} folds from the log, one Kafka producer, the API document and the tenants' limits.
 * Deployment completes once the servers listen and the job view has replayed the log, so a deployed gateway answers
 * for every earlier job.
 */
public final class GatewayVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(GatewayVerticle.class);

    /** What every HTTP verticle of one gateway uses; each part is safe to use from several event loops. */
    record Shared(OnewayConfig config, ApiDocument api, ApiKeys apiKeys, SubmissionRules rules, ModelCatalog models,
                  JobView view,
                  JobViewVerticle viewReader, JobSubmitter submitter, ImageLinks links, TenantRateLimiter rateLimiter,
                  GatewayMetrics metrics, Admin admin) { }

    private final OnewayConfig config;
    /** Names this instance's Kafka clients, so gateways can share a JVM. */
    private final String instanceId = UUID.randomUUID().toString();
    private volatile int actualPort = -1;
    /** Numbers the "any free port" of each gateway in this JVM (see start). */
    private static final AtomicInteger ANY_FREE_PORT = new AtomicInteger();
    private final List<HttpApiVerticle> servers = new CopyOnWriteArrayList<>();
    private Admin admin;
    private ModelCatalog models;
    private JobSubmitter submitter;

    public GatewayVerticle(OnewayConfig config) {
        this.config = config;
    }

    /** The port the HTTP servers listen on (useful with ONEWAY_HTTP_PORT=0); -1 before they listen. */
    public int actualPort() {
        return actualPort;
    }

    /** The routes this gateway serves (tests compare them with the OpenAPI document); null before start. */
    Router router() {
        return servers.isEmpty() ? null : servers.get(0).router();
    }

    @Override
    public Future<?> start() {
        return ApiDocument.load(vertx, config).compose(this::start);
    }

    private Future<?> start(ApiDocument api) {
        // Configuration mistakes surface here, before any Kafka client exists that would need closing.
        int instances = config.httpInstances();
        ApiKeys apiKeys = new ApiKeys(config.apiKeys());
        SubmissionRules rules = new SubmissionRules(api);
        ImageLinks links = new ImageLinks(vertx, config);
        TenantRateLimiter rateLimiter = TenantRateLimiter.fromConfig(config);
        admin = KafkaClients.admin(config, "oneway-gateway-admin-" + instanceId);
        submitter = new JobSubmitter(vertx, config, "oneway-gateway-" + instanceId);
        models = new ModelCatalog(config, "oneway-gateway-models-" + instanceId);
        JobView view = new JobView();
        JobViewVerticle viewReader = new JobViewVerticle(config, view, "oneway-gateway-view-" + instanceId);
        Shared shared = new Shared(config, api, apiKeys, rules, models, view, viewReader, submitter, links, rateLimiter,
                new GatewayMetrics(), admin);
        // Vert.x's own way to use every event loop: instances of one verticle listening on one port; the first binds
        // it and each new connection goes to one of them in turn. ONEWAY_HTTP_PORT=0 becomes a negative port, which
        // Vert.x reads as "any free port, shared by the servers that name this same number".
        int port = config.getInt(Setting.HTTP_PORT);
        int sharedPort = port != 0 ? port : -ANY_FREE_PORT.incrementAndGet();
        return KafkaClients.ensureTopics(admin, config, context)
                .compose(v -> vertx.deployVerticle(() -> {
                    HttpApiVerticle server = new HttpApiVerticle(shared, sharedPort);
                    servers.add(server);
                    return server;
                }, new DeploymentOptions().setInstances(instances)))
                .compose(id -> {
                    actualPort = servers.get(0).actualPort();
                    log.info("gateway listening on port {} on {} event loops; replaying job events and model announcements",
                            actualPort, instances);
                    return Future.fromCompletionStage(models.start(), context)
                            .compose(v -> vertx.deployVerticle(viewReader));
                })
                .onSuccess(id -> log.info("gateway ready on port {}", actualPort))
                .recover(err -> closeClients().transform(ar -> Future.failedFuture(err)));
    }

    /**
     * The HTTP verticles (deployed from this one, so undeployed before it stops) stop accepting, send every WebSocket
     * client a close frame (1001, going away) and let requests in flight finish within ONEWAY_SHUTDOWN_GRACE_MS; the
     * view verticle goes with them; then the shared Kafka clients close.
     */
    @Override
    public Future<?> stop() {
        return closeClients();
    }

    private Future<Void> closeClients() {
        Future<Void> producerClosed = submitter == null ? Future.succeededFuture() : submitter.close();
        Future<Void> adminClosed = admin == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
            admin.close(Duration.ofSeconds(5));
            return null;
        });
        Future<Void> modelsClosed = models == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
            models.close();
            return null;
        });
        return Future.join(producerClosed, adminClosed, modelsClosed).mapEmpty();
    }
}
