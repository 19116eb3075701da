package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Deploys ONEWAY_WORKER_INSTANCES job consumers per model served, and the JVM's {@link WebhookDeliverer}. Each consumer
 * consumes only its model's jobs topic in its model's group, so batches never mix models; every engine runs on the
 * JVM's one engine thread.
 */
public final class Workers {
    private Workers() { }

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    /** The deployment id; undeploying it stops every instance gracefully. Every instance records into {@code metrics}. */
    public static Future<String> deploy(Vertx vertx, OnewayConfig config, List<ServedModel> models, WorkerMetrics metrics) {
        return deploy(vertx, config, models, config.getInt(Setting.WORKER_INSTANCES), metrics);
    }

    /**
     * One deployment of {@code instances} consumers per model, under one parent verticle: undeploying the returned id
     * stops them all gracefully.
     */
    public static Future<String> deploy(Vertx vertx, OnewayConfig config, List<ServedModel> models, int instances,
                                        WorkerMetrics metrics) {
        String stableId = config.get(Setting.WORKER_ID);
        return vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                List<Future<String>> pools = new ArrayList<>();
                int maxBatchSize = config.getInt(Setting.MAX_BATCH_SIZE);
                for (ServedModel model : models) {
                    // One policy for the instances sharing this model's engine: it measures the engine, whoever fed it.
                    long maxPixels = config.maxBatchPixels().orElse(model.engine().onGpu() ? 0 : CPU_MAX_BATCH_PIXELS);
                    java.util.function.ToIntFunction<String> largest = BatchSizes.largest(maxBatchSize, maxPixels);
                    BatchSizes batchSizes = config.batchPolicyMeasured() ? new BatchPolicy(maxBatchSize, largest, metrics)
                            : BatchSizes.fixed(largest);
                    AtomicInteger instance = new AtomicInteger();
                    pools.add(vertx.deployVerticle(() -> {
                        int n = instance.incrementAndGet();
                        // A stable identity makes each instance a static member of its model's group that gets its
                        // partitions back on restart.
                        String groupInstanceId = stableId.isBlank() ? null : stableId + "-" + n;
                        String workerId = groupInstanceId != null ? groupInstanceId : nextWorkerId();
                        return new JobConsumerVerticle(config, model, workerId, groupInstanceId, metrics, batchSizes);
                    }, new DeploymentOptions().setInstances(instances)));
                }
                // One parent, so that undeploying its id stops the consumers and the deliverer (its children) together.
                return Future.all(pools)
                        .compose(consumers -> vertx.deployVerticle(new WebhookDeliverer(config, nextWorkerId() + "-webhooks")));
            }
        });
    }

    /**
     * ONEWAY_MAX_BATCH_PIXELS on the CPU when unset: one 1024x1024 image (SD1.5 in bfloat16 peaks at about 12.5 GB of
     * RSS for it), four 512x512, sixteen 256x256. A batch's activations grow with its pixels, and a worker that runs
     * out of memory is killed with its whole batch.
     */
    static final long CPU_MAX_BATCH_PIXELS = 1024L * 1024;

    /** "host:pid/w3": unique per verticle across the worker fleet, readable in job timings. */
    static String nextWorkerId() {
        return ManagementFactory.getRuntimeMXBean().getName().replace('@', ':') + "/w" + SEQUENCE.incrementAndGet();
    }
}
