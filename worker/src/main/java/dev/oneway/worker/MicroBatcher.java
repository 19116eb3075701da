package dev.oneway.worker;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Groups waiting items by batch key. A group is released as one batch once it holds its key's target size
 * ({@link BatchSizes#target}: the maximum batch size, or the size a {@link BatchPolicy} found fastest) or its
 * oldest item has waited {@code maxWaitMs}, then with as many items as {@link BatchSizes#take} says; among released
 * groups the one waiting longest goes first, so no shape starves. Time is passed in, which keeps the rule testable without clocks. Not thread-safe:
 * the worker uses it from its event loop only.
 */
final class MicroBatcher<T> {

    private final BatchSizes sizes;
    private final long maxWaitMs;
    private final Function<T, String> keyOf;
    private final Map<String, Group<T>> groups = new LinkedHashMap<>();
    private int pending;

    MicroBatcher(int maxBatchSize, long maxWaitMs, Function<T, String> keyOf) {
        this(BatchSizes.fixed(maxBatchSize), maxWaitMs, keyOf);
    }

    MicroBatcher(BatchSizes sizes, long maxWaitMs, Function<T, String> keyOf) {
        this.sizes = sizes;
        this.maxWaitMs = maxWaitMs;
        this.keyOf = keyOf;
    }

    void add(T item, long nowMs) {
        groups.computeIfAbsent(keyOf.apply(item), k -> new Group<>(nowMs)).items.add(item);
        pending++;
    }

    /** The batch to run now, if any group is full or has waited long enough. */
    Optional<List<T>> takeReady(long nowMs) {
        String oldestReady = null;
        long oldestSince = Long.MAX_VALUE;
        for (Map.Entry<String, Group<T>> e : groups.entrySet()) {
            Group<T> g = e.getValue();
            boolean ready = g.items.size() >= sizes.target(e.getKey()) || nowMs - g.since >= maxWaitMs;
            if (ready && g.since < oldestSince) {
                oldestReady = e.getKey();
                oldestSince = g.since;
            }
        }
        if (oldestReady == null) {
            return Optional.empty();
        }
        Group<T> group = groups.get(oldestReady);
        int target = sizes.target(oldestReady);
        int n = group.items.size() >= target ? target
                : Math.max(1, Math.min(group.items.size(), sizes.take(oldestReady, group.items.size())));
        List<T> batch = new ArrayList<>(group.items.subList(0, n));
        group.items.subList(0, n).clear();
        if (group.items.isEmpty()) {
            groups.remove(oldestReady);
        }
        // Items left over from an overfull group keep their arrival time: they have waited already.
        pending -= n;
        return Optional.of(batch);
    }

    /** Milliseconds until {@link #takeReady} will return a batch by age; 0 if one is ready now, -1 if nothing waits. */
    long msUntilReady(long nowMs) {
        long soonest = -1;
        for (Map.Entry<String, Group<T>> e : groups.entrySet()) {
            Group<T> g = e.getValue();
            long wait = g.items.size() >= sizes.target(e.getKey()) ? 0 : Math.max(0, g.since + maxWaitMs - nowMs);
            if (soonest < 0 || wait < soonest) {
                soonest = wait;
            }
        }
        return soonest;
    }

    /** Removes and returns every waiting item that matches, e.g. those of partitions this worker lost. */
    List<T> removeIf(Predicate<T> filter) {
        List<T> removed = new ArrayList<>();
        for (Iterator<Group<T>> it = groups.values().iterator(); it.hasNext(); ) {
            Group<T> g = it.next();
            for (Iterator<T> items = g.items.iterator(); items.hasNext(); ) {
                T item = items.next();
                if (filter.test(item)) {
                    removed.add(item);
                    items.remove();
                }
            }
            if (g.items.isEmpty()) {
                it.remove();
            }
        }
        pending -= removed.size();
        return removed;
    }

    int pending() {
        return pending;
    }

    private static final class Group<T> {
        final long since;
        final List<T> items = new ArrayList<>();

        Group(long since) {
            this.since = since;
        }
    }
}
