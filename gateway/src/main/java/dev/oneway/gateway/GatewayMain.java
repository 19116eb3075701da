package dev.oneway.gateway;

import dev.oneway.common.OnewayConfig;
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
        // SIGTERM undeploys the gateway: WebSocket clients get a close frame, the server stops listening.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("Gateway did not stop cleanly: {}", e.toString());
            }
        }, "oneway-gateway-shutdown"));
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
