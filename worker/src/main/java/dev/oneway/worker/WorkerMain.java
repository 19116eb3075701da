package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.engine.TiueEngine;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A worker JVM against external Kafka and S3/MinIO: load the model once, deploy the job consumers. */
public final class WorkerMain {
    private WorkerMain() { }

    private static final Logger LOG = LoggerFactory.getLogger(WorkerMain.class);

    public static void main(String[] args) throws Exception {
        OnewayConfig config = OnewayConfig.fromEnv();
        LOG.info("Configuration: {}", config);
        TiueEngine engine = EngineLoader.load(config);
        Vertx vertx = Vertx.vertx();
        // SIGTERM undeploys the verticles: each finishes its running batch and commits before the JVM ends.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
            } catch (Exception e) {
                LOG.warn("Worker did not stop cleanly: {}", e.toString());
            }
            engine.close();
        }, "oneway-worker-shutdown"));
        Workers.deploy(vertx, config, ImageEngine.of(engine))
                .onSuccess(id -> LOG.info("Worker running with {} consumer(s)", config.get(dev.oneway.common.Setting.WORKER_INSTANCES)))
                .onFailure(e -> {
                    LOG.error("Worker failed to start", e);
                    System.exit(1);
                });
    }
}
