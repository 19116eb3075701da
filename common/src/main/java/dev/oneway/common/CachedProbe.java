package dev.oneway.common;

import io.minio.BucketExistsArgs;
import io.minio.MinioClient;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * A readiness check of something across the network: it costs at most one round trip per second however
 * often readiness is asked, and it answers within two seconds even when the other side hangs. Use it from
 * one event loop (it keeps its last answer without locking).
 */
public final class CachedProbe {

    private static final long REUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long TIMEOUT_MS = 2000;

    private final Supplier<Future<?>> probe;
    private Future<Void> last;
    private long startedAt;

    public CachedProbe(Supplier<Future<?>> probe) {
        this.probe = probe;
    }

    /** Succeeds when the last probe (at most a second old, or a new one) succeeded in time. */
    public Future<Void> check() {
        long now = System.nanoTime();
        if (last == null || (last.isComplete() && now - startedAt > REUSE_NANOS)) {
            startedAt = now;
            last = probe.get().<Void>mapEmpty().timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        return last;
    }

    /** Kafka answers a describe-cluster request. */
    public static CachedProbe kafka(Admin admin, Context context) {
        DescribeClusterOptions options = new DescribeClusterOptions().timeoutMs((int) TIMEOUT_MS);
        return new CachedProbe(() ->
                Future.fromCompletionStage(admin.describeCluster(options).clusterId().toCompletionStage(), context));
    }

    /**
     * The S3 server at ONEWAY_S3_ENDPOINT answers a signed request for ONEWAY_S3_BUCKET: it is reachable and
     * takes this process's credentials. Whether the bucket exists yet does not matter, because workers create it.
     */
    public static CachedProbe s3(Vertx vertx, OnewayConfig config) {
        MinioClient client = S3Clients.client(config, TIMEOUT_MS);
        BucketExistsArgs request = BucketExistsArgs.builder().bucket(config.get(Setting.S3_BUCKET)).build();
        return new CachedProbe(() -> vertx.executeBlocking(() -> client.bucketExists(request), false));
    }
}
