package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.BETA_KEY;
import static dev.oneway.gateway.TestGateway.workerCopy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.ImageResult;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class WebSocketEventsTest {

    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = new TestGateway(Map.of(Setting.WS_PING_INTERVAL_MS, 200));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void eachTenantHearsExactlyItsOwnJobsInOrderWithAnImageUrlAtTheEnd() throws Exception {
        TestGateway.Socket alpha = gateway.connect(ALPHA_KEY);
        TestGateway.Socket beta = gateway.connect(BETA_KEY);
        String alphaJob = gateway.submit(ALPHA_KEY, "a lighthouse at dusk");
        String betaJob = gateway.submit(BETA_KEY, "a red fox");

        JsonObject queued = alpha.next();
        assertEquals("job.queued", queued.getString("type"));
        assertEquals(alphaJob, queued.getString("id"));
        assertEquals("queued", queued.getString("status"));
        assertEquals("a lighthouse at dusk", queued.getJsonObject("job").getString("prompt"));
        assertFalse(queued.containsKey("tenant") || queued.getJsonObject("job").containsKey("tenant"));

        JobRequest job = workerCopy(alphaJob, "alpha");
        byte[] png = JobViewTest.png(32, 32);
        String objectKey = Topics.imageObjectKey("alpha", alphaJob);
        gateway.infra.putImage(objectKey, png);
        gateway.publishEvent(JobEvent.started(job, 1));
        gateway.publishEvent(JobEvent.succeeded(job, 1, new JsonObject(),
                new ImageResult(SharedInfrastructure.BUCKET, objectKey, "image/png", 32, 32, png.length)));
        gateway.publishEvent(JobEvent.started(workerCopy(betaJob, "beta"), 1));

        assertEquals("job.started", alpha.next().getString("type"));
        JsonObject succeeded = alpha.next();
        assertEquals("job.succeeded", succeeded.getString("type"));
        JsonObject result = succeeded.getJsonObject("result");
        assertFalse(result.containsKey("bucket") || result.containsKey("objectKey"));
        assertArrayEquals(png, gateway.download(result.getString("url")).getBytes());

        JsonObject betaQueued = beta.next();
        assertEquals(betaJob, betaQueued.getString("id"));
        JsonObject betaStarted = beta.next();
        assertEquals(betaJob, betaStarted.getString("id"), "beta heard nothing of alpha's job in between");
        assertEquals("job.started", betaStarted.getString("type"));
        assertTrue(alpha.frames.isEmpty(), "alpha heard nothing of beta's job: " + alpha.frames);
    }

    @Test
    void subscribingNarrowsTheStreamToTheNamedJobs() {
        TestGateway.Socket alpha = gateway.connect(ALPHA_KEY);
        String first = gateway.submit(ALPHA_KEY, "first");
        String second = gateway.submit(ALPHA_KEY, "second");
        alpha.nextFor(second);

        alpha.send(new JsonObject().put("subscribe", new JsonArray().add(second)).encode());
        JsonObject ack = alpha.nextSubscribedAck();

        assertEquals(new JsonArray().add(second), ack.getJsonArray("ids"));
        gateway.publishEvent(JobEvent.started(workerCopy(first, "alpha"), 2));
        gateway.publishEvent(JobEvent.started(workerCopy(second, "alpha"), 2));
        JsonObject next = alpha.nextWhere(frame -> frame.getString("type").startsWith("job."));
        assertEquals(second, next.getString("id"), "the first job's event was not sent");
        assertEquals("job.started", next.getString("type"));
    }

    @Test
    void subscribingToAnotherTenantsOrAnUnknownJobIsAnErrorThatLeaksNothing() {
        String betaJob = gateway.submit(BETA_KEY, "beta's secret");
        String unknown = UUID.randomUUID().toString();
        TestGateway.Socket alpha = gateway.connect(ALPHA_KEY);

        alpha.send(new JsonObject().put("subscribe", new JsonArray().add(betaJob).add(unknown)).encode());

        JsonObject error = alpha.nextError();
        assertEquals("not_found", error.getString("code"));
        assertEquals("no job '" + betaJob + "'", error.getString("message"));
        assertEquals("no job '" + unknown + "'", alpha.nextError().getString("message"));
        assertEquals(new JsonArray(), alpha.nextSubscribedAck().getJsonArray("ids"));
    }

    @Test
    void malformedFramesGetAnErrorFrameAndTheConnectionStaysUsable() {
        TestGateway.Socket alpha = gateway.connect(ALPHA_KEY);

        alpha.send("not json");
        alpha.send("{\"unsubscribe\": []}");
        alpha.send("{\"subscribe\": \"all\"}");
        alpha.send("{\"subscribe\": [42]}");
        alpha.sendBinary(Buffer.buffer(new byte[] {1, 2, 3}));

        for (int i = 0; i < 5; i++) {
            assertEquals("invalid_request", alpha.nextError().getString("code"));
        }
        String job = gateway.submit(ALPHA_KEY, "still listening");
        alpha.send(new JsonObject().put("subscribe", new JsonArray().add(job)).encode());
        assertEquals(new JsonArray().add(job), alpha.nextSubscribedAck().getJsonArray("ids"));
    }

    @Test
    void idleConnectionsArePinged() {
        TestGateway.Socket alpha = gateway.connect(ALPHA_KEY);

        long deadline = System.nanoTime() + 10_000_000_000L;
        while (alpha.pings.get() < 2 && System.nanoTime() < deadline) {
            TestGateway.sleep(50);
        }

        assertTrue(alpha.pings.get() >= 2, "pings received: " + alpha.pings.get());
    }
}
