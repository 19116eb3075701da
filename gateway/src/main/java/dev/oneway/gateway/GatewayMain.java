package dev.oneway.gateway;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Shutdown;
import io.vertx.core.Vertx;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A gateway JVM against external Kafka and S3/MinIO, configured by ONEWAY_* environment variables. */
public final class GatewayMain {
    private GatewayMain() { }

    private static final Logger LOG = LoggerFactory.getLogger(GatewayMain.class);

    public static void main(String[] args) throws InterruptedException {
        OnewayConfig config = OnewayConfig.fromEnv();
        LOG.info("Configuration: {}", config);
        Vertx vertx = Vertx.vertx();
        // SIGTERM: the gateway stops accepting, sends every WebSocket client a close frame (1001, going away),
        // lets requests in flight finish within ONEWAY_SHUTDOWN_GRACE_MS, closes its Kafka clients; then the JVM ends.
        long graceMs = config.getInt(Setting.SHUTDOWN_GRACE_MS);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("Gateway stopping (grace {} ms)", graceMs);
            try {
                Shutdown.undeployAllThenClose(vertx).toCompletionStage().toCompletableFuture()
                        .get(graceMs + Shutdown.CLOSE_MARGIN_MS, TimeUnit.MILLISECONDS);
                LOG.info("Gateway stopped");
            } catch (Exception e) {
                LOG.warn("Gateway did not stop cleanly: {}", e.toString());
            }
            Shutdown.flushLogs();
        }, "oneway-gateway-shutdown"));
        Shutdown.exitZeroOnStopSignals();
        try {
            // Awaited here, not in a callback: System.exit on an event loop would wait for the shutdown hook,
            // which waits for Vert.x to close that very event loop.
            vertx.deployVerticle(new GatewayVerticle(config)).toCompletionStage().toCompletableFuture().get();
        } catch (ExecutionException e) {
            LOG.error("Gateway failed to start", e.getCause());
            System.exit(1);
        }
    }
}
