package dev.oneway.common;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;

/** How a Oneway process ends on SIGTERM, the same for gateway and worker. */
public final class Shutdown {
    private Shutdown() { }

    /** Time allowed beyond ONEWAY_SHUTDOWN_GRACE_MS for closing Kafka clients and Vert.x itself. */
    public static final long CLOSE_MARGIN_MS = 10_000;

    /**
     * Undeploys every verticle, so each runs its own graceful stop, and only then closes Vert.x: closing
     * Vert.x first would close servers and Kafka clients underneath the verticles.
     */
    /**
     * Writes out what the asynchronous log appender still holds and stops logging. Called last by each process's
     * own shutdown hook: logback's hook would run beside ours (the JVM starts all hooks at once) and stop the log
     * system while the drain is still logging, which lost its last lines.
     */
    public static void flushLogs() {
        if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logs) {
            logs.stop();
        }
    }

    public static Future<Void> undeployAllThenClose(Vertx vertx) {
        List<Future<Void>> undeploying = vertx.deploymentIDs().stream().map(vertx::undeploy).toList();
        return Future.join(undeploying).transform(ar -> vertx.close());
    }
}
