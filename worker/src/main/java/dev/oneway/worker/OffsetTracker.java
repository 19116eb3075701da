package dev.oneway.worker;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * Which consumed offsets are still unfinished, per partition. Jobs of one partition finish out of order
 * (they may land in different batches), so the committable offset of a partition is its lowest unfinished
 * offset, or one past the highest consumed offset when all are finished. A commit therefore never passes a
 * job whose terminal event has not been acknowledged. Event-loop confined.
 */
final class OffsetTracker {

    private final Map<TopicPartition, TreeSet<Long>> unfinished = new HashMap<>();
    private final Map<TopicPartition, Long> nextToConsume = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    void consumed(TopicPartition partition, long offset) {
        unfinished.computeIfAbsent(partition, p -> new TreeSet<>()).add(offset);
        nextToConsume.merge(partition, offset + 1, Math::max);
    }

    /** Marks a job finished; offsets of partitions this worker no longer owns are ignored. */
    void finished(TopicPartition partition, long offset) {
        TreeSet<Long> open = unfinished.get(partition);
        if (open != null) {
            open.remove(offset);
        }
    }

    /** The offsets to commit now: per partition, where a restarted consumer must resume, if that moved forward. */
    Map<TopicPartition, Long> committable() {
        Map<TopicPartition, Long> result = new HashMap<>();
        nextToConsume.forEach((partition, next) -> {
            TreeSet<Long> open = unfinished.get(partition);
            long resumeAt = open == null || open.isEmpty() ? next : open.first();
            if (resumeAt > committed.getOrDefault(partition, -1L)) {
                result.put(partition, resumeAt);
            }
        });
        return result;
    }

    void committed(Map<TopicPartition, Long> offsets) {
        offsets.forEach((partition, offset) -> committed.merge(partition, offset, Math::max));
    }

    /** Forgets partitions taken away by a rebalance: their unfinished jobs will be redelivered to the new owner. */
    void forget(Collection<TopicPartition> partitions) {
        partitions.forEach(p -> {
            unfinished.remove(p);
            nextToConsume.remove(p);
            committed.remove(p);
        });
    }

    boolean hasUnfinished() {
        return unfinished.values().stream().anyMatch(s -> !s.isEmpty());
    }
}
