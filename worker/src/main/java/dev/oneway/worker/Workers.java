package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Deploys ONEWAY_WORKER_INSTANCES job consumers sharing one engine, and the JVM's {@link WebhookDeliverer}. */
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
        AtomicInteger instance = new AtomicInteger();
        // One parent, so that undeploying its id stops the consumers and the deliverer (its children) together.
        return vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                return vertx.deployVerticle(() -> {
                    int n = instance.incrementAndGet();
                    // A stable identity makes each instance a static group member that gets its partitions back on restart.
                    String groupInstanceId = stableId.isBlank() ? null : stableId + "-" + n;
                    String workerId = groupInstanceId != null ? groupInstanceId : nextWorkerId();
                    return new JobConsumerVerticle(config, engine, workerId, groupInstanceId, metrics);
                }, new DeploymentOptions().setInstances(instances))
                        .compose(consumers -> vertx.deployVerticle(new WebhookDeliverer(config, nextWorkerId() + "-webhooks")));
            }
        });
    }

    /** "host:pid/w3": unique per verticle across the worker fleet, readable in job timings. */
    static String nextWorkerId() {
        return ManagementFactory.getRuntimeMXBean().getName().replace('@', ':') + "/w" + SEQUENCE.incrementAndGet();
    }
}
