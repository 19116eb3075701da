package dev.oneway.common;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;

/** How a Oneway process ends on SIGTERM or Ctrl-C, the same for gateway, worker and standalone. */
public final class Shutdown {
    private Shutdown() { }

    /** Time allowed beyond ONEWAY_SHUTDOWN_GRACE_MS for closing Kafka clients and Vert.x itself. */
    public static final long CLOSE_MARGIN_MS = 10_000;

    /**
     * Makes Ctrl-C (SIGINT) and SIGTERM a normal end of the process: the shutdown hooks run as before, and the exit
     * status is 0 instead of the JVM's 130 or 143. Both signals are how a person or an orchestrator asks a Oneway
     * process to stop, not failures. A signal ignored when the JVM started (nohup) stays ignored; with -Xrs the JVM's
     * own behaviour is kept.
     */
    public static void exitZeroOnStopSignals() {
        for (String name : List.of("INT", "TERM")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> System.exit(0));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the JVM keeps this signal for itself (-Xrs) or the platform has no such signal
            }
        }
    }

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

    /**
     * Undeploys every verticle, so each runs its own graceful stop, and only then closes Vert.x: closing
     * Vert.x first would close servers and Kafka clients underneath the verticles.
     */
    public static Future<Void> undeployAllThenClose(Vertx vertx) {
        List<Future<Void>> undeploying = vertx.deploymentIDs().stream().map(vertx::undeploy).toList();
        return Future.join(undeploying).transform(ar -> vertx.close());
    }
}
