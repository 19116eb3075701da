package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Shutdown;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker JVM against external Kafka and S3/MinIO: serve health and metrics, load each model once, deploy the
 * job consumers of each. While the model loads, /health/live answers and /health/ready says the model is loading.
 */
public final class WorkerMain {
    private WorkerMain() { }

    private static final Logger LOG = LoggerFactory.getLogger(WorkerMain.class);

    public static void main(String[] args) throws Exception {
        OnewayConfig config = OnewayConfig.fromEnv();
        LOG.info("Configuration: {}", config);
        Vertx vertx = Vertx.vertx();
        // SIGTERM: each consumer stops polling, finishes its running batch within ONEWAY_SHUTDOWN_GRACE_MS (or hands
        // it back uncommitted), commits and leaves the group; then the JVM ends. The engine is not closed: a batch
        // handed back may still be inside it, and the process is ending anyway.
        long graceMs = config.getInt(Setting.SHUTDOWN_GRACE_MS);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("Worker stopping (grace {} ms)", graceMs);
            try {
                Shutdown.undeployAllThenClose(vertx).toCompletionStage().toCompletableFuture()
                        .get(graceMs + Shutdown.CLOSE_MARGIN_MS, TimeUnit.MILLISECONDS);
                LOG.info("Worker stopped");
            } catch (Exception e) {
                LOG.warn("Worker did not stop cleanly: {}", e.toString());
            }
            Shutdown.flushLogs();
        }, "oneway-worker-shutdown"));
        Shutdown.exitZeroOnStopSignals();
        WorkerMetrics metrics = new WorkerMetrics();
        WorkerHttpServer http = new WorkerHttpServer(config, metrics);
        List<EngineLoader.LoadedModel> models;
        try {
            vertx.deployVerticle(http).toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
            models = EngineLoader.loadAll(config, true);
        } catch (Exception e) {
            LOG.error("Worker failed to start", e);
            System.exit(1);
            return;
        }
        try {
            // Awaited here, not in a callback: System.exit on an event loop would wait for the shutdown hook,
            // which waits for Vert.x to close that very event loop.
            Workers.deploy(vertx, config, models.stream().map(EngineLoader.LoadedModel::served).toList(), metrics)
                    .toCompletionStage().toCompletableFuture().get();
            // Ready once its models are announced and consumed: a gateway then knows their limits.
            http.modelLoaded();
            LOG.info("Worker running with {} consumer(s) for each of {}", config.get(Setting.WORKER_INSTANCES),
                    config.models().keySet());
        } catch (ExecutionException e) {
            LOG.error("Worker failed to start", e.getCause());
            System.exit(1);
        }
    }
}
