package dev.oneway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MicroBatcherTest {

    /** Items are "shape:name"; the shape is the batch key. */
    private static MicroBatcher<String> batcher(int maxSize, long maxWaitMs) {
        return new MicroBatcher<>(maxSize, maxWaitMs, s -> s.substring(0, s.indexOf(':')));
    }

    @Test
    void aFullGroupIsReleasedAtOnceWithoutWaiting() {
        MicroBatcher<String> b = batcher(3, 50);
        b.add("64:a", 0);
        b.add("64:b", 0);
        assertEquals(Optional.empty(), b.takeReady(0));
        b.add("64:c", 1);
        assertEquals(Optional.of(List.of("64:a", "64:b", "64:c")), b.takeReady(1));
        assertEquals(0, b.pending());
    }

    @Test
    void aPartialGroupWaitsForItsOldestItemToReachTheMaximumWait() {
        MicroBatcher<String> b = batcher(8, 50);
        b.add("64:a", 100);
        b.add("64:b", 130);
        assertEquals(20, b.msUntilReady(130));
        assertEquals(Optional.empty(), b.takeReady(149));
        assertEquals(Optional.of(List.of("64:a", "64:b")), b.takeReady(150));
        assertEquals(-1, b.msUntilReady(150), "nothing waits");
    }

    @Test
    void incompatibleJobsNeverShareABatch() {
        MicroBatcher<String> b = batcher(8, 10);
        b.add("64:a", 0);
        b.add("128:b", 0);
        b.add("64:c", 0);
        assertEquals(Optional.of(List.of("64:a", "64:c")), b.takeReady(10));
        assertEquals(Optional.of(List.of("128:b")), b.takeReady(10));
        assertEquals(Optional.empty(), b.takeReady(10));
    }

    @Test
    void theGroupWaitingLongestGoesFirst() {
        MicroBatcher<String> b = batcher(2, 1000);
        b.add("128:old", 0);
        b.add("64:x", 5);
        b.add("64:y", 6);
        b.add("128:old2", 7);
        assertEquals(Optional.of(List.of("128:old", "128:old2")), b.takeReady(7));
        assertEquals(Optional.of(List.of("64:x", "64:y")), b.takeReady(7));
    }

    @Test
    void anOverfullGroupIsSplitAndItsRestKeepsItsPlaceInLine() {
        MicroBatcher<String> b = batcher(2, 50);
        for (String name : List.of("a", "b", "c")) {
            b.add("64:" + name, 0);
        }
        assertEquals(Optional.of(List.of("64:a", "64:b")), b.takeReady(0));
        assertEquals(Optional.empty(), b.takeReady(49));
        assertEquals(Optional.of(List.of("64:c")), b.takeReady(50));
    }

    @Test
    void itemsOfLostPartitionsCanBeTakenBack() {
        MicroBatcher<String> b = batcher(8, 50);
        b.add("64:p0-a", 0);
        b.add("64:p1-b", 0);
        b.add("128:p1-c", 0);
        List<String> removed = b.removeIf(s -> s.contains("p1"));
        assertEquals(List.of("64:p1-b", "128:p1-c"), removed);
        assertEquals(1, b.pending());
        assertTrue(b.takeReady(50).orElseThrow().contains("64:p0-a"));
    }

    @Test
    void aPolicyThatFoundBatchesOfOneFastestReleasesEachItemAtOnce() {
        BatchPolicy policy = new BatchPolicy(8, null);
        policy.measured("64", 1, 100);
        policy.measured("64", 2, 400); // 200 ms per image: worse than alone
        MicroBatcher<String> b = new MicroBatcher<>(policy, 50, s -> s.substring(0, s.indexOf(':')));
        for (String name : List.of("a", "b", "c")) {
            b.add("64:" + name, 0);
        }
        assertEquals(0, b.msUntilReady(0), "no waiting for mates that would slow it down");
        assertEquals(Optional.of(List.of("64:a")), b.takeReady(0));
        assertEquals(Optional.of(List.of("64:b")), b.takeReady(0));
    }

    @Test
    void aGroupBelowItsTargetGoesAtTheMaximumWaitWithTheCountThePolicyTakes() {
        BatchSizes sizes = new BatchSizes() {
            @Override
            public int target(String key) {
                return 8;
            }

            @Override
            public int take(String key, int available) {
                return available >= 2 ? 2 : 1; // as a policy that measured 2 cheapest among what waits
            }
        };
        MicroBatcher<String> b = new MicroBatcher<>(sizes, 50, s -> s.substring(0, s.indexOf(':')));
        for (String name : List.of("a", "b", "c")) {
            b.add("64:" + name, 0);
        }
        assertEquals(Optional.empty(), b.takeReady(49));
        assertEquals(Optional.of(List.of("64:a", "64:b")), b.takeReady(50));
        assertEquals(Optional.of(List.of("64:c")), b.takeReady(50), "the rest has waited as long");
    }

    @Test
    void jobsThatArriveAloneDoNotWaitForMatesAndABurstDoes() {
        MicroBatcher<String> b = batcher(8, 5);
        long t = 0;
        // sparse traffic, 250 ms apart (4 jobs a second): after a few gaps, a job goes at once
        for (int i = 0; i < 4; i++, t += 250) {
            b.add("64:sparse" + i, t);
            if (i < MicroBatcher.GAPS_BEFORE_JUDGING) {
                assertEquals(5, b.msUntilReady(t), "the rate is not known yet: job " + i + " waits");
                assertEquals(Optional.empty(), b.takeReady(t));
                assertEquals(Optional.of(List.of("64:sparse" + i)), b.takeReady(t + 5));
            } else {
                assertEquals(0, b.msUntilReady(t), "alone: no wait");
                assertEquals(Optional.of(List.of("64:sparse" + i)), b.takeReady(t));
            }
        }
        // a burst arriving together goes as one batch
        for (int i = 0; i < 6; i++) {
            b.add("64:burst" + i, t);
        }
        assertEquals(6, b.takeReady(t).orElseThrow().size());
        // busy traffic, 1 ms apart: the mean gap falls under 4 waits and jobs wait for mates again
        for (int i = 0; i < 12; i++) {
            b.add("64:busy" + i, ++t);
            b.takeReady(t + 5); // each goes by its wait at the latest
        }
        b.add("64:busier", ++t);
        assertEquals(5, b.msUntilReady(t), "busy traffic waits for mates");
        // another shape keeps its own arrivals: its first job waits
        b.add("128:first", t);
        assertEquals(Optional.empty(), b.takeReady(t).filter(batch -> batch.contains("128:first")));
    }
}
