package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.engine.TiueEngine;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker JVM against external Kafka and S3/MinIO: serve health and metrics, load the model once, deploy the
 * job consumers. While the model loads, /health/live answers and /health/ready says the model is loading.
 */
public final class WorkerMain {
    private WorkerMain() { }

    private static final Logger LOG = LoggerFactory.getLogger(WorkerMain.class);

    public static void main(String[] args) throws Exception {
        OnewayConfig config = OnewayConfig.fromEnv();
        LOG.info("Configuration: {}", config);
        Vertx vertx = Vertx.vertx();
        AtomicReference<TiueEngine> loaded = new AtomicReference<>();
        // SIGTERM undeploys the verticles: each finishes its running batch and commits before the JVM ends.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
            } catch (Exception e) {
                LOG.warn("Worker did not stop cleanly: {}", e.toString());
            }
            if (loaded.get() != null) {
                loaded.get().close();
            }
        }, "oneway-worker-shutdown"));
        WorkerMetrics metrics = new WorkerMetrics();
        WorkerHttpServer http = new WorkerHttpServer(config, metrics);
        try {
            vertx.deployVerticle(http).toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
            loaded.set(EngineLoader.load(config));
        } catch (Exception e) {
            LOG.error("Worker failed to start", e);
            System.exit(1);
        }
        http.modelLoaded();
        Workers.deploy(vertx, config, ImageEngine.of(loaded.get()), metrics)
                .onSuccess(id -> LOG.info("Worker running with {} consumer(s)", config.get(Setting.WORKER_INSTANCES)))
                .onFailure(e -> {
                    LOG.error("Worker failed to start", e);
                    System.exit(1);
                });
    }
}
