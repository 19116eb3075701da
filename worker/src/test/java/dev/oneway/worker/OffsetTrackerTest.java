package dev.oneway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
        t.consumed(P0, 10);
        t.consumed(P0, 11);
        t.consumed(P0, 12);
        t.finished(P0, 11);
        t.finished(P0, 12);
        assertEquals(Map.of(P0, 10L), t.committable(), "resume at the unfinished job 10");
        t.committed(t.committable());
        assertEquals(Map.of(), t.committable(), "no commit that does not move forward");
        t.finished(P0, 10);
        assertEquals(Map.of(P0, 13L), t.committable());
    }

    @Test
    void partitionsAreTrackedIndependently() {
        OffsetTracker t = new OffsetTracker();
        t.consumed(P0, 0);
        t.consumed(P1, 5);
        t.finished(P1, 5);
        assertEquals(Map.of(P0, 0L, P1, 6L), t.committable());
    }

    @Test
    void aLostPartitionIsForgottenAndItsLateFinishesIgnored() {
        OffsetTracker t = new OffsetTracker();
        t.consumed(P0, 3);
        t.consumed(P1, 7);
        t.forget(List.of(P1));
        t.finished(P1, 7);
        assertEquals(Map.of(P0, 3L), t.committable());
    }
}
