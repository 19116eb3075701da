package dev.oneway.worker;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's one way to retry: bounded exponential backoff with full jitter, waiting on a timer (never a
 * sleeping thread), and a non-retriable case that fails at once. Used for uploads and for every Kafka write of the
 * completion pipeline.
 */
final class RetryPolicy {

    /** A failure that no retry can fix: the pipeline fails the job (or dead-letters it) instead of waiting forever. */
    static final class NonRetriable extends RuntimeException {
        NonRetriable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(RetryPolicy.class);

    private final Vertx vertx;
    private final int tries;
    private final long firstDelayMs;
    private final long maxDelayMs;

    /** @param tries 0 = until it succeeds, fails non-retriably, or the caller gives up */
    RetryPolicy(Vertx vertx, int tries, long firstDelayMs, long maxDelayMs) {
        this.vertx = vertx;
        this.tries = tries;
        this.firstDelayMs = firstDelayMs;
        this.maxDelayMs = maxDelayMs;
    }

    /** The first success; else the last failure once the tries are used up, the failure is non-retriable, or {@code giveUp}. */
    <T> Future<T> run(String what, Supplier<Future<T>> action, BooleanSupplier giveUp) {
        return attempt(what, action, giveUp, 1);
    }

    private <T> Future<T> attempt(String what, Supplier<Future<T>> action, BooleanSupplier giveUp, int n) {
        return action.get().recover(e -> {
            if (!retriable(e)) {
                return Future.failedFuture(e instanceof NonRetriable ? e : new NonRetriable(what + " cannot succeed: " + e, e));
            }
            if ((tries > 0 && n >= tries) || giveUp.getAsBoolean()) {
                return Future.failedFuture(e);
            }
            long delayMs = delayBefore(n + 1);
            LOG.warn("{} failed (try {}{}); next try in {} ms: {}", what, n, tries > 0 ? "/" + tries : "", delayMs, e.toString());
            return vertx.timer(delayMs).compose(v -> attempt(what, action, giveUp, n + 1));
        });
    }

    /** Full jitter: uniform in [cap/2, cap], cap doubling from the first delay up to the maximum. */
    long delayBefore(int tryNumber) {
        long cap = Math.min(maxDelayMs, firstDelayMs << Math.min(20, Math.max(0, tryNumber - 2)));
        return cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
    }

    /** Kafka errors that repeat whatever one waits: too large, not allowed, no such topic, unserializable. */
    static boolean retriable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NonRetriable || t instanceof RecordTooLargeException || t instanceof AuthorizationException
                    || t instanceof AuthenticationException || t instanceof InvalidTopicException
                    || t instanceof SerializationException) {
                return false;
            }
        }
        return true;
    }
}
