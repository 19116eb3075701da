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
    public static Future<Void> undeployAllThenClose(Vertx vertx) {
        List<Future<Void>> undeploying = vertx.deploymentIDs().stream().map(vertx::undeploy).toList();
        return Future.join(undeploying).transform(ar -> vertx.close());
    }
}
