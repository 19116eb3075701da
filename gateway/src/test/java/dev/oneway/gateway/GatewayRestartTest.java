package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.BETA_KEY;
import static dev.oneway.gateway.TestGateway.workerCopy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.JobEvent;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The view lives in Kafka, not in the gateway: a new gateway instance rebuilds it from the events topic. */
class GatewayRestartTest {

    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = new TestGateway();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void aRestartedGatewayStillAnswersForEveryEarlierJob() {
        String queued = gateway.submit(ALPHA_KEY, "still waiting");
        String running = gateway.submit(ALPHA_KEY, "being drawn");
        String failed = gateway.submit(BETA_KEY, "too ambitious");
        String canceled = gateway.submit(ALPHA_KEY, "not wanted after all");
        String idempotent = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "once"),
                Map.of("Idempotency-Key", "restart-test")).json().getString("id");
        gateway.publishEvent(JobEvent.started(workerCopy(running, "alpha"), 3));
        gateway.publishEvent(JobEvent.started(workerCopy(failed, "beta"), 1));
        gateway.publishEvent(JobEvent.failed(workerCopy(failed, "beta"), new ErrorInfo("engine_error", "boom")));
        assertEquals(200, gateway.delete("/v1/jobs/" + canceled, ALPHA_KEY).status());
        gateway.awaitJob(failed, BETA_KEY, j -> j.getString("status").equals("failed"));

        gateway.restart();

        assertEquals("queued", gateway.get("/v1/jobs/" + queued, ALPHA_KEY).json().getString("status"));
        JsonObject stillRunning = gateway.get("/v1/jobs/" + running, ALPHA_KEY).json();
        assertEquals("running", stillRunning.getString("status"));
        assertEquals(3, stillRunning.getInteger("batchSize"));
        assertEquals("being drawn", stillRunning.getString("prompt"));
        JsonObject stillFailed = gateway.get("/v1/jobs/" + failed, BETA_KEY).json();
        assertEquals("failed", stillFailed.getString("status"));
        assertEquals("boom", stillFailed.getJsonObject("error").getString("message"));
        assertEquals(404, gateway.get("/v1/jobs/" + failed, ALPHA_KEY).status(), "tenancy survives too");
        assertEquals("canceled", gateway.get("/v1/jobs/" + canceled, ALPHA_KEY).json().getString("status"));
        TestGateway.Response replay = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "once"),
                Map.of("Idempotency-Key", "restart-test"));
        assertEquals(idempotent, replay.json().getString("id"), "an Idempotency-Key is remembered across restarts");
    }
}
