package dev.oneway.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class JobRequestTest {
    private static final Instant AT = Instant.parse("2025-06-01T12:00:00.123Z");

    @Test
    void theDecoderTravelsOnTheTopicAndOlderRecordsMeanTheVae() {
        JobRequest taesd = new JobRequest("j1", "demo", "a cat", 1, 512, 512, 4, "tiue", AT, null, "taesd", false, null);

        assertEquals(taesd, JobRequest.fromJson(taesd.toJson()));
        var withoutDecoder = taesd.toJson();
        withoutDecoder.remove("decoder");
        assertEquals("vae", JobRequest.fromJson(withoutDecoder).decoder());
    }

    @Test
    void jobsWithDifferentDecodersNeverShareABatch() {
        JobRequest vae = new JobRequest("j1", "demo", "a cat", 1, 512, 512, 4, "tiue", AT);
        JobRequest taesd = new JobRequest("j2", "demo", "a dog", 2, 512, 512, 4, "tiue", AT, null, "taesd", false, null);
        JobRequest otherVae = new JobRequest("j3", "demo", "a fox", 3, 512, 512, 4, "tiue", AT, null, "vae", false, null);

        assertNotEquals(vae.batchKey(), taesd.batchKey());
        assertEquals(vae.batchKey(), otherVae.batchKey());
    }
}
