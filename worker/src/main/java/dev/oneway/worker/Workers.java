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
        String stableId = config.get(Setting.WORKER_ID);
        int maxBatchSize = config.getInt(Setting.MAX_BATCH_SIZE);
        // One policy for the instances sharing this engine: it measures the engine, whoever fed it.
        BatchSizes batchSizes = config.batchPolicyMeasured() ? new BatchPolicy(maxBatchSize, metrics)
                : BatchSizes.fixed(maxBatchSize);
        AtomicInteger instance = new AtomicInteger();
        return vertx.deployVerticle(() -> {
            int n = instance.incrementAndGet();
            // A stable identity makes each instance a static group member that gets its partitions back on restart.
            String groupInstanceId = stableId.isBlank() ? null : stableId + "-" + n;
            String workerId = groupInstanceId != null ? groupInstanceId : nextWorkerId();
            return new JobConsumerVerticle(config, engine, workerId, groupInstanceId, metrics, batchSizes);
        }, new DeploymentOptions().setInstances(instances));
    }

    /** "host:pid/w3": unique per verticle across the worker fleet, readable in job timings. */
    static String nextWorkerId() {
        return ManagementFactory.getRuntimeMXBean().getName().replace('@', ':') + "/w" + SEQUENCE.incrementAndGet();
    }
}
