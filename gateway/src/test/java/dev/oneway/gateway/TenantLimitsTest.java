package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.BETA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.Setting;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One tenant cannot flood the queue: rate and unfinished-job limits answer 429 with Retry-After. */
class TenantLimitsTest {

    @Test
    void submissionsBeyondTheRateLimitAre429WithRetryAfterAndOtherTenantsAreUnaffected() {
        try (TestGateway gateway = new TestGateway(Map.of(Setting.JOBS_PER_MINUTE_PER_TENANT, 3))) {
            for (int i = 0; i < 3; i++) {
                gateway.submit(ALPHA_KEY, "job " + i);
            }

            TestGateway.Response limited = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "one too many"));

            assertEquals(429, limited.status());
            assertEquals("rate_limited", limited.errorCode());
            assertTrue(Integer.parseInt(limited.headers().get("Retry-After")) >= 1);
            assertEquals(202, gateway.postJob(BETA_KEY, new JsonObject().put("prompt", "beta's turn")).status());
        }
    }

    @Test
    void aTenantWithTooManyUnfinishedJobsMustWaitForOneToFinish() {
        try (TestGateway gateway = new TestGateway(Map.of(Setting.MAX_UNFINISHED_JOBS_PER_TENANT, 2))) {
            String first = gateway.submit(ALPHA_KEY, "first");
            gateway.submit(ALPHA_KEY, "second");

            TestGateway.Response limited = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "third"));
            assertEquals(429, limited.status());
            assertEquals("too_many_unfinished_jobs", limited.errorCode());
            assertTrue(limited.headers().contains("Retry-After"));

            gateway.delete("/v1/jobs/" + first, ALPHA_KEY);
            assertEquals(202, gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "third")).status());
        }
    }
}
