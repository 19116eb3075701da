package dev.oneway.worker;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Job ids, each with how often it was added, that forgets the oldest once full, so a long-lived worker's memory stays
 * bounded; thread-safe.
 */
final class RecentIds {

    private final Map<String, Integer> ids;

    RecentIds(int capacity) {
        this.ids = new LinkedHashMap<>(1024, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
                return size() > capacity;
            }
        };
    }

    synchronized void add(String id) {
        ids.merge(id, 1, Integer::sum);
    }

    synchronized boolean contains(String id) {
        return ids.containsKey(id);
    }

    /** How often {@code id} was added (0 for an id never added, or forgotten). */
    synchronized int count(String id) {
        return ids.getOrDefault(id, 0);
    }
}
