package dev.oneway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.worker.OffsetTracker.Delivery;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {

    private static final TopicPartition P0 = new TopicPartition("jobs", 0);
    private static final TopicPartition P1 = new TopicPartition("jobs", 1);

    @Test
    void nothingIsCommittedWhileTheFirstJobIsUnfinished() {
        OffsetTracker t = new OffsetTracker();
        t.assigned(List.of(P0));
        Delivery d10 = t.consumed(P0, 10);
        Delivery d11 = t.consumed(P0, 11);
        Delivery d12 = t.consumed(P0, 12);
        t.finished(d11);
        t.finished(d12);
        assertEquals(Map.of(P0, 10L), t.committable(), "resume at the unfinished job 10");
        t.committed(t.committable());
        assertEquals(Map.of(), t.committable(), "no commit that does not move forward");
        t.finished(d10);
        assertEquals(Map.of(P0, 13L), t.committable());
    }

    @Test
    void onlyAJobOnTheLogBeforeItsPartitionCameHereMayHaveRunBefore() {
        OffsetTracker t = new OffsetTracker();
        java.time.Instant before = java.time.Instant.now().minusSeconds(60);
        t.assigned(List.of(P0));
        Delivery d = t.consumed(P0, 3);
        assertTrue(t.mayHaveRunBefore(d, before), "accepted before the assignment: an earlier owner may have run it");
        assertTrue(t.mayHaveRunBefore(d, java.time.Instant.now()), "within the clock slack");
        assertFalse(t.mayHaveRunBefore(d, java.time.Instant.now().plusMillis(OffsetTracker.CLOCK_SLACK_MS + 5_000)),
                "accepted after the assignment (and the slack): no one else can have fetched it");
        t.revoke(List.of(P0));
        t.assigned(List.of(P0));
        assertTrue(t.mayHaveRunBefore(d, java.time.Instant.now().plusMillis(OffsetTracker.CLOCK_SLACK_MS + 5_000)),
                "a delivery of an earlier assignment");
    }

    @Test
    void partitionsAreTrackedIndependently() {
        OffsetTracker t = new OffsetTracker();
        t.assigned(List.of(P0, P1));
        t.consumed(P0, 0);
        t.finished(t.consumed(P1, 5));
        assertEquals(Map.of(P0, 0L, P1, 6L), t.committable());
    }

    @Test
    void aRevokedPartitionHandsOverWhatIsFinishedAndIgnoresLateFinishes() {
        OffsetTracker t = new OffsetTracker();
        t.assigned(List.of(P0, P1));
        t.consumed(P0, 3);
        t.finished(t.consumed(P1, 6));
        Delivery running = t.consumed(P1, 7);

        assertEquals(Map.of(P1, 7L), t.revoke(List.of(P1)), "commit the finished job 6 before the partition goes");
        assertFalse(t.owns(running));
        t.finished(running);
        assertEquals(Map.of(P0, 3L), t.committable());
    }

    @Test
    void aLateFinishFromAnEarlierAssignmentDoesNotClearTheRedeliveredCopy() {
        OffsetTracker t = new OffsetTracker();
        t.assigned(List.of(P0));
        Delivery first = t.consumed(P0, 4);
        t.revoke(List.of(P0));
        t.assigned(List.of(P0));
        Delivery again = t.consumed(P0, 4);

        t.finished(first);

        assertTrue(t.owns(again));
        assertEquals(Map.of(P0, 4L), t.committable(), "the redelivered job 4 is still unfinished");
        t.finished(again);
        assertEquals(Map.of(P0, 5L), t.committable());
    }
}
