package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Deploys ONEWAY_WORKER_INSTANCES job consumers sharing one engine. */
public final class Workers {
    private Workers() { }

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    /** The deployment id; undeploying it stops every instance gracefully. Every instance records into {@code metrics}. */
    public static Future<String> deploy(Vertx vertx, OnewayConfig config, ImageEngine engine, WorkerMetrics metrics) {
        return deploy(vertx, config, engine, config.getInt(Setting.WORKER_INSTANCES), metrics);
    }

    public static Future<String> deploy(Vertx vertx, OnewayConfig config, ImageEngine engine, int instances,
                                        WorkerMetrics metrics) {
        return vertx.deployVerticle(() -> new JobConsumerVerticle(config, engine, nextWorkerId(), metrics),
                new DeploymentOptions().setInstances(instances));
    }

    /** "host:pid/w3": unique per verticle across the worker fleet, readable in job timings. */
    static String nextWorkerId() {
        return ManagementFactory.getRuntimeMXBean().getName().replace('@', ':') + "/w" + SEQUENCE.incrementAndGet();
    }
}
