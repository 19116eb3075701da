package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.engine.TiueEngine;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A worker JVM against external Kafka and S3/MinIO: load the model once, deploy the job consumers. */
public final class WorkerMain {
    private WorkerMain() { }

    private static final Logger LOG = LoggerFactory.getLogger(WorkerMain.class);

    /**
     * How long a stopping worker may take to finish its running batch and commit. Deployments must give the
     * process at least this long after SIGTERM (Kubernetes terminationGracePeriodSeconds, compose stop_grace_period).
     */
    public static final Duration SHUTDOWN_TIMEOUT = Duration.ofMinutes(5);

    public static void main(String[] args) throws Exception {
        OnewayConfig config = OnewayConfig.fromEnv();
        LOG.info("Configuration: {}", config);
        TiueEngine engine = EngineLoader.load(config);
        Vertx vertx = Vertx.vertx();
        // SIGTERM undeploys the verticles: each finishes its running batch and commits before the JVM ends.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("Worker did not stop cleanly: {}", e.toString());
            }
            engine.close();
        }, "oneway-worker-shutdown"));
        try {
            // Awaited here, not in a callback: System.exit on an event loop would wait for the shutdown hook,
            // which waits for Vert.x to close that very event loop.
            Workers.deploy(vertx, config, ImageEngine.of(engine)).toCompletionStage().toCompletableFuture().get();
            LOG.info("Worker running with {} consumer(s)", config.get(dev.oneway.common.Setting.WORKER_INSTANCES));
        } catch (ExecutionException e) {
            LOG.error("Worker failed to start", e.getCause());
            System.exit(1);
        }
    }
}
