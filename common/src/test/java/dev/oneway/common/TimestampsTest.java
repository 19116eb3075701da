package dev.oneway.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** createdAt, at (and the gateway's startedAt, finishedAt, expiresAt) all read 2025-06-01T12:00:00.123Z. */
class TimestampsTest {

    static final String RFC_3339_MILLIS = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";

    @Test
    void everyTimestampHasExactlyThreeFractionDigitsInUtc() {
        assertEquals("2025-06-01T12:00:00.123Z", Timestamps.format(Instant.parse("2025-06-01T12:00:00.123456789Z")));
        assertEquals("2025-06-01T12:00:00.000Z", Timestamps.format(Instant.parse("2025-06-01T12:00:00Z")));
        assertEquals("2025-06-01T12:00:00.100Z", Timestamps.format(Instant.parse("2025-06-01T14:00:00.1+02:00")));
    }

    @Test
    void jobRecordsAndEventsCarryMillisecondsAndReadBackEqual() {
        Instant now = Instant.parse("2025-06-01T12:00:00.123456789Z");
        JobRequest job = new JobRequest("j1", "demo", "a fox", 42, 64, 64, 4, "tiue", now);
        JobEvent queued = JobEvent.queued(job);
        JobEvent canceled = JobEvent.canceled("j1", "demo");

        assertEquals("2025-06-01T12:00:00.123Z", job.toJson().getString("createdAt"));
        assertEquals("2025-06-01T12:00:00.123Z", queued.toJson().getString("at"));
        assertEquals("2025-06-01T12:00:00.123Z", queued.toJson().getJsonObject("job").getString("createdAt"));
        assertTrue(canceled.toJson().getString("at").matches(RFC_3339_MILLIS), canceled.toJson().encode());
        // What a gateway wrote equals what it reads back from the topic (its view matches them by type and time).
        assertEquals(job, JobRequest.fromJson(job.toJson()));
        assertEquals(queued, JobEvent.fromJson(queued.toJson()));
        assertEquals(canceled, JobEvent.fromJson(canceled.toJson()));
    }

    @Test
    void recordsWrittenWithNanosecondsAreStillRead() {
        JobEvent old = JobEvent.fromJson(JobEvent.canceled("j1", "demo").toJson().put("at", "2025-06-01T12:00:00.123456789Z"));

        assertEquals(Instant.parse("2025-06-01T12:00:00.123Z"), old.at());
    }
}
