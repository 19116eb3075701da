package dev.oneway.gateway;

import java.util.HashMap;
import java.util.Map;

/**
 * A token bucket per tenant: a burst of up to a minute's allowance, refilled evenly. Used on one
 * event loop only, so it needs no locking; each gateway instance limits on its own.
 */
final class TenantRateLimiter {

    private static final class Bucket {
        double tokens;
        long refilledAtNanos;
    }

    private final double capacity;
    private final double tokensPerNano;
    private final Map<String, Bucket> buckets = new HashMap<>();

    TenantRateLimiter(int perMinute) {
        this.capacity = perMinute;
        this.tokensPerNano = perMinute / 60e9;
    }

    /** Takes one token: 0 when granted, else the whole seconds until one is available. */
    long acquire(String tenant) {
        long now = System.nanoTime();
        Bucket bucket = buckets.computeIfAbsent(tenant, t -> {
            Bucket b = new Bucket();
            b.tokens = capacity;
            b.refilledAtNanos = now;
            return b;
        });
        bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.refilledAtNanos) * tokensPerNano);
        bucket.refilledAtNanos = now;
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - bucket.tokens) / tokensPerNano / 1e9));
    }
}
