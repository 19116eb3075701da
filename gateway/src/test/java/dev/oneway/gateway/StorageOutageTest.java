package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.oneway.common.Setting;
import dev.oneway.embedded.EmbeddedS3;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway hands out image links into S3, so it is not ready while S3 is away; it recovers by itself. */
class StorageOutageTest {

    @TempDir
    Path dataDir;

    @Test
    void whileS3IsAwayTheGatewayIsNotReadyYetStillAcceptsJobs() {
        try (EmbeddedS3 s3 = new EmbeddedS3(dataDir, SharedInfrastructure.S3_ACCESS_KEY, SharedInfrastructure.S3_SECRET_KEY).start();
             TestGateway gateway = new TestGateway(Map.of(Setting.S3_ENDPOINT, s3.endpoint()))) {
            assertEquals(200, gateway.get("/health/ready", null).status());

            s3.stop();
            TestGateway.Response down = awaitReadiness(gateway, r -> r.status() == 503);
            assertEquals("not_ready", down.errorCode());
            assertEquals("S3 is not reachable", down.errorMessage());
            assertEquals("down", down.json().getJsonObject("checks").getString("s3"));
            assertEquals("up", down.json().getJsonObject("checks").getString("kafka"));
            assertEquals(200, gateway.get("/health/live", null).status());
            gateway.submit(ALPHA_KEY, "jobs need Kafka, not S3, to be accepted");

            s3.start();
            TestGateway.Response up = awaitReadiness(gateway, r -> r.status() == 200);
            assertEquals("up", up.json().getJsonObject("checks").getString("s3"));
        }
    }

    /** Readiness probes are reused for a second, so a change shows on a later ask. */
    private static TestGateway.Response awaitReadiness(TestGateway gateway, Predicate<TestGateway.Response> wanted) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        TestGateway.Response last = null;
        while (System.nanoTime() < deadline) {
            last = gateway.get("/health/ready", null);
            if (wanted.test(last)) {
                return last;
            }
            TestGateway.sleep(200);
        }
        throw new AssertionError("readiness never changed as expected; last: " + last.status() + " " + last.body());
    }
}
