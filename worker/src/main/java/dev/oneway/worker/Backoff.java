package dev.oneway.worker;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retries an asynchronous action a bounded number of times, waiting between tries on a timer (never a
 * sleeping thread) with waits that double up to {@link #MAX_DELAY_MS}.
 */
final class Backoff {

    static final long MAX_DELAY_MS = 30_000;
    private static final Logger LOG = LoggerFactory.getLogger(Backoff.class);

    private final Vertx vertx;
    private final int tries;
    private final long firstDelayMs;

    Backoff(Vertx vertx, int tries, long firstDelayMs) {
        this.vertx = vertx;
        this.tries = tries;
        this.firstDelayMs = firstDelayMs;
    }

    /** The first success, or the last failure once the tries are used up or {@code giveUp} says so. */
    <T> Future<T> retry(String what, Supplier<Future<T>> action, BooleanSupplier giveUp) {
        return attempt(what, action, giveUp, 1, firstDelayMs);
    }

    private <T> Future<T> attempt(String what, Supplier<Future<T>> action, BooleanSupplier giveUp, int n, long delayMs) {
        return action.get().recover(e -> {
            if (n >= tries || giveUp.getAsBoolean()) {
                return Future.failedFuture(e);
            }
            LOG.warn("{} failed (try {}/{}); next try in {} ms: {}", what, n, tries, delayMs, e.toString());
            return vertx.timer(delayMs)
                    .compose(v -> attempt(what, action, giveUp, n + 1, Math.min(MAX_DELAY_MS, delayMs * 2)));
        });
    }
}
