package dev.oneway.gateway;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per tenant: a burst of up to a minute's allowance, refilled evenly. One per gateway, shared by
 * its event loops (a tenant's bucket is locked only for the moment of taking a token); each gateway limits on
 * its own.
 */
final class TenantRateLimiter {

    private static final class Bucket {
        double tokens;
        long refilledAtNanos;
    }

    private final double capacity;
    private final double tokensPerNano;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    TenantRateLimiter(int perMinute) {
        this.capacity = perMinute;
        this.tokensPerNano = perMinute / 60e9;
    }

    static TenantRateLimiter fromConfig(OnewayConfig config) {
        return new TenantRateLimiter(config.getInt(Setting.JOBS_PER_MINUTE_PER_TENANT));
    }

    /** Takes one token: 0 when granted, else the whole seconds until one is available. */
    long acquire(String tenant) {
        Bucket bucket = buckets.computeIfAbsent(tenant, t -> {
            Bucket b = new Bucket();
            b.tokens = capacity;
            b.refilledAtNanos = System.nanoTime();
            return b;
        });
        synchronized (bucket) {
            return take(bucket, System.nanoTime());
        }
    }

    private long take(Bucket bucket, long now) {
        bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.refilledAtNanos) * tokensPerNano);
        bucket.refilledAtNanos = now;
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - bucket.tokens) / tokensPerNano / 1e9));
    }
}
