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
 * groups the one waiting longest goes first, so no shape starves. A group whose key's jobs arrive alone (on average
 * more than {@link #LONE_ARRIVAL_WAITS} maximum waits apart, over the last few arrivals) goes at once: waiting for a
 * mate that almost never comes only delays every job by the whole wait. Time is passed in, which keeps the rule
 * testable without clocks. Not thread-safe: the worker uses it from its event loop only.
 */
final class MicroBatcher<T> {

    private final BatchSizes sizes;
    private final long maxWaitMs;
    private final Function<T, String> keyOf;
    /** A key's jobs arriving on average this many maximum waits apart or more do not wait for mates. */
    static final int LONE_ARRIVAL_WAITS = 4;
    /** Gaps between arrivals seen before a key's jobs may count as arriving alone. */
    static final int GAPS_BEFORE_JUDGING = 3;
    private static final int KEYS_REMEMBERED = 1024;

    private final Map<String, Group<T>> groups = new LinkedHashMap<>();
    private final Map<String, Arrivals> arrivals = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Arrivals> eldest) {
            return size() > KEYS_REMEMBERED;
        }
    };
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
        String key = keyOf.apply(item);
        arrivals.computeIfAbsent(key, k -> new Arrivals()).note(nowMs);
        groups.computeIfAbsent(key, k -> new Group<>(nowMs)).items.add(item);
        pending++;
    }

    /** Released now: full, waited long enough, or its jobs arrive alone. */
    private boolean ready(String key, Group<T> group, long nowMs) {
        if (group.items.size() >= sizes.target(key) || nowMs - group.since >= maxWaitMs) {
            return true;
        }
        Arrivals a = arrivals.get(key);
        return a != null && a.alone(maxWaitMs);
    }

    /** The batch to run now, if any group is full or has waited long enough. */
    Optional<List<T>> takeReady(long nowMs) {
        String oldestReady = null;
        long oldestSince = Long.MAX_VALUE;
        for (Map.Entry<String, Group<T>> e : groups.entrySet()) {
            Group<T> g = e.getValue();
            if (ready(e.getKey(), g, nowMs) && g.since < oldestSince) {
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
            long wait = ready(e.getKey(), g, nowMs) ? 0 : Math.max(0, g.since + maxWaitMs - nowMs);
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

    /** When a key's jobs arrived: the mean gap between them, recent gaps weighing most. */
    private static final class Arrivals {
        long last = -1;
        double meanGapMs;
        int gaps;

        void note(long nowMs) {
            if (last >= 0) {
                long gap = nowMs - last;
                meanGapMs = gaps == 0 ? gap : 0.75 * meanGapMs + 0.25 * gap;
                gaps++;
            }
            last = nowMs;
        }

        boolean alone(long maxWaitMs) {
            return gaps >= GAPS_BEFORE_JUDGING && meanGapMs >= LONE_ARRIVAL_WAITS * (double) maxWaitMs;
        }
    }

    private static final class Group<T> {
        final long since;
        final List<T> items = new ArrayList<>();

        Group(long since) {
            this.since = since;
        }
    }
}
