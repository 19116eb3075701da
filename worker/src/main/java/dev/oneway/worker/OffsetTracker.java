package dev.oneway.worker;

import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * Which consumed offsets are still unfinished, per partition and per assignment. Jobs of one partition finish
 * out of order (they may land in different batches), so the committable offset of a partition is its lowest
 * unfinished offset, or one past the highest consumed offset when all are finished: a commit never passes a job
 * whose outcome is not on the log.
 *
 * <p>Every assignment of a partition is a new generation, and each consumed record is a {@link Delivery} of one
 * generation. A finish from an earlier generation (a batch that was still running when its partition was revoked
 * and then assigned again) is ignored: it cannot clear the entry of the copy the group redelivered.
 * Event-loop confined.
 */
final class OffsetTracker {

    /** One consumed record of one assignment of its partition. */
    record Delivery(TopicPartition partition, long offset, long generation) { }

    /**
     * How long after an assignment a job created before it (by the gateway's clock) may still be one that an earlier
     * owner of the partition fetched: room for the gateway's clock to run ahead of this worker's.
     */
    static final long CLOCK_SLACK_MS = 10_000;

    private static final class Assignment {
        final long generation;
        final long assignedAtMs = System.currentTimeMillis();
        /** The group is taking it away: writes in flight may still finish, nothing new starts. */
        boolean leaving;
        final TreeSet<Long> unfinished = new TreeSet<>();
        long nextToConsume = -1;
        long committed = -1;

        Assignment(long generation) {
            this.generation = generation;
        }
    }

    private final Map<TopicPartition, Assignment> owned = new HashMap<>();
    private long generations;

    /** The group gave us these partitions: each starts a new generation. */
    void assigned(Collection<TopicPartition> partitions) {
        partitions.forEach(p -> owned.put(p, new Assignment(++generations)));
    }

    /** A record was fetched; until it is {@link #finished} no commit passes it. */
    Delivery consumed(TopicPartition partition, long offset) {
        Assignment a = owned.computeIfAbsent(partition, p -> new Assignment(++generations));
        a.unfinished.add(offset);
        a.nextToConsume = Math.max(a.nextToConsume, offset + 1);
        return new Delivery(partition, offset, a.generation);
    }

    /**
     * Whether the delivery's partition is still ours in the same assignment and staying: a job that is not is handed
     * back at its next step.
     */
    boolean owns(Delivery d) {
        Assignment a = owned.get(d.partition());
        return a != null && a.generation == d.generation() && !a.leaving;
    }

    /**
     * Whether another consumer (an earlier owner of the partition, this worker before a restart) may have fetched and
     * run this job: it was on the log before the partition came to this assignment. A job accepted since cannot
     * have been.
     */
    boolean mayHaveRunBefore(Delivery d, Instant createdAt) {
        Assignment a = owned.get(d.partition());
        return a == null || a.generation != d.generation() || createdAt.toEpochMilli() < a.assignedAtMs + CLOCK_SLACK_MS;
    }

    /** The job's outcome is on the log; ignored for a delivery of an earlier assignment. */
    void finished(Delivery d) {
        Assignment a = owned.get(d.partition());
        if (a != null && a.generation == d.generation()) {
            a.unfinished.remove(d.offset());
        }
    }

    /** The group is taking these partitions away: their jobs start nothing new, while writes in flight finish. */
    void leaving(Collection<TopicPartition> partitions) {
        partitions.forEach(p -> {
            Assignment a = owned.get(p);
            if (a != null) {
                a.leaving = true;
            }
        });
    }

    /** The offsets to commit now: per partition, where a restarted consumer must resume, if that moved forward. */
    Map<TopicPartition, Long> committable() {
        Map<TopicPartition, Long> result = new HashMap<>();
        owned.forEach((partition, a) -> {
            long resumeAt = resumeAt(a);
            if (resumeAt > a.committed) {
                result.put(partition, resumeAt);
            }
        });
        return result;
    }

    void committed(Map<TopicPartition, Long> offsets) {
        offsets.forEach((partition, offset) -> {
            Assignment a = owned.get(partition);
            if (a != null) {
                a.committed = Math.max(a.committed, offset);
            }
        });
    }

    /**
     * The group takes these partitions away: returns what must be committed for them before they go (everything
     * finished so far), and forgets them. Jobs of theirs still running are handed back; the next owner runs them.
     */
    Map<TopicPartition, Long> revoke(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> last = new HashMap<>();
        for (TopicPartition p : partitions) {
            Assignment a = owned.remove(p);
            if (a != null && resumeAt(a) > a.committed) {
                last.put(p, resumeAt(a));
            }
        }
        return last;
    }

    private static long resumeAt(Assignment a) {
        return a.unfinished.isEmpty() ? a.nextToConsume : a.unfinished.first();
    }

    boolean hasUnfinished() {
        return owned.values().stream().anyMatch(a -> !a.unfinished.isEmpty());
    }
}
