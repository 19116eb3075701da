package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.BETA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.Setting;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JobSubmissionTest {

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
    void postingAJobAnswers202WithLocationAndTheJobRecordIsItsOneWrite() {
        TestGateway.Response response = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a lighthouse at dusk"));

        assertEquals(202, response.status(), response.body());
        JsonObject job = response.json();
        String id = job.getString("id");
        UUID.fromString(id);
        assertEquals("/v1/jobs/" + id, response.headers().get("Location"));
        assertEquals("queued", job.getString("status"));
        assertEquals("a lighthouse at dusk", job.getString("prompt"));
        assertEquals(512, job.getInteger("width"), "defaults come from configuration");
        assertEquals(512, job.getInteger("height"));
        assertEquals(4, job.getInteger("steps"));
        assertEquals("tiue", job.getString("sampler"));
        assertEquals("vae", job.getString("decoder"), "the full VAE unless the job asks for taesd");
        assertNotNull(job.getLong("seed"), "a random seed is chosen and shown, so the image can be reproduced");
        assertNotNull(job.getString("createdAt"));
        assertTrue(!job.containsKey("tenant"), "tenants are internal");

        List<ConsumerRecord<String, String>> jobs =
                gateway.readTopic(gateway.jobsTopic(), read -> read.stream().anyMatch(r -> r.key().equals(id)));
        JobRequest onTopic = JobRequest.fromJson(new JsonObject(
                jobs.stream().filter(r -> r.key().equals(id)).findFirst().orElseThrow().value()));
        assertEquals("alpha", onTopic.tenant());
        assertEquals(job.getLong("seed"), onTopic.seed());

        assertEquals(1, jobs.stream().filter(r -> r.key().equals(id)).count(), "one record per job");
        String marker = gateway.submit(ALPHA_KEY, "canceled, so that the events topic has a record to read up to");
        assertEquals(200, gateway.delete("/v1/jobs/" + marker, ALPHA_KEY).status());
        List<ConsumerRecord<String, String>> events = gateway.readTopic(Setting.EVENTS_TOPIC,
                read -> read.stream().anyMatch(r -> r.key().equals(marker)));
        assertTrue(events.stream().noneMatch(r -> r.key().equals(id)),
                "acceptance writes nothing else: the queued state is derived from the record");
    }

    @Test
    void aSubmittedJobCanBeReadBackAtOnceWithTheRequestedValues() {
        JsonObject request = new JsonObject().put("prompt", "a red fox").put("seed", 42).put("width", 256)
                .put("height", 768).put("steps", 8).put("sampler", "looped").put("decoder", "taesd");
        String id = gateway.postJob(ALPHA_KEY, request).json().getString("id");

        TestGateway.Response response = gateway.get("/v1/jobs/" + id, ALPHA_KEY);

        assertEquals(200, response.status());
        JsonObject job = response.json();
        assertEquals("queued", job.getString("status"));
        assertEquals(42, job.getLong("seed"));
        assertEquals(256, job.getInteger("width"));
        assertEquals(768, job.getInteger("height"));
        assertEquals(8, job.getInteger("steps"));
        assertEquals("looped", job.getString("sampler"));
        assertEquals("taesd", job.getString("decoder"));
    }

    @Test
    void theSameIdempotencyKeyTwiceGivesTheSameJobAndOneRecord() {
        String key = "order-" + UUID.randomUUID();
        JsonObject body = new JsonObject().put("prompt", "a teapot").put("seed", 7);

        TestGateway.Response first = gateway.postJob(ALPHA_KEY, body, Map.of("Idempotency-Key", key));
        TestGateway.Response second = gateway.postJob(ALPHA_KEY, body, Map.of("Idempotency-Key", key));

        assertEquals(202, first.status(), first.body());
        assertEquals(202, second.status(), second.body());
        String id = first.json().getString("id");
        assertEquals(id, second.json().getString("id"));
        assertEquals("true", second.headers().get("Idempotent-Replayed"));

        String marker = gateway.submit(ALPHA_KEY, "submitted after both, to know the topic is read far enough");
        List<ConsumerRecord<String, String>> jobs =
                gateway.readTopic(gateway.jobsTopic(), read -> read.stream().anyMatch(r -> r.key().equals(marker)));
        assertEquals(1, jobs.stream().filter(r -> r.key().equals(id)).count());
    }

    @Test
    void aKeyAnotherGatewayAcceptedFirstIsAnsweredWithThatJobHereAtOnce() {
        String key = "elsewhere-" + UUID.randomUUID();
        String id = JobIds.idempotent("alpha", key);
        JobRequest first = new JobRequest(id, "alpha", "a teapot", 1234, 512, 512, 4, "tiue", java.time.Instant.now());
        gateway.publishJob(first); // another gateway's write, which this one has not read yet

        TestGateway.Response same = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a teapot"),
                Map.of("Idempotency-Key", key));
        TestGateway.Response changed = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a kettle"),
                Map.of("Idempotency-Key", key));

        assertEquals(202, same.status(), same.body());
        assertEquals("true", same.headers().get("Idempotent-Replayed"));
        assertEquals(id, same.json().getString("id"));
        assertEquals(1234, same.json().getLong("seed"), "the job that runs is the first record's, seed included");
        assertEquals(422, changed.status(), changed.body());
        assertEquals("idempotency_key_reused", changed.errorCode());
        String marker = gateway.submit(ALPHA_KEY, "submitted after both, to know the topic is read far enough");
        List<ConsumerRecord<String, String>> jobs =
                gateway.readTopic(gateway.jobsTopic(), read -> read.stream().anyMatch(r -> r.key().equals(marker)));
        assertEquals(1, jobs.stream().filter(r -> r.key().equals(id)).count(), "no second record for the key");
    }

    @Test
    void aKeyClaimedByAGatewayThatDiedBeforeWritingTheRecordBecomesThatJobOnRetry() {
        String key = "orphaned-" + UUID.randomUUID();
        String id = JobIds.idempotent("alpha", key);
        JobRequest claimed = new JobRequest(id, "alpha", "a teapot", 99, 512, 512, 4, "tiue", java.time.Instant.now());
        gateway.publishEvent(JobEvent.claimed(claimed)); // and then that gateway was killed

        TestGateway.Response changed = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a kettle"),
                Map.of("Idempotency-Key", key));
        TestGateway.Response retry = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a teapot"),
                Map.of("Idempotency-Key", key));

        assertEquals(422, changed.status(), "the key is bound to the first claim's body: " + changed.body());
        assertEquals(202, retry.status(), retry.body());
        assertEquals(id, retry.json().getString("id"));
        assertEquals(99, retry.json().getLong("seed"), "the job is the first claim's request");
        List<ConsumerRecord<String, String>> jobs =
                gateway.readTopic(gateway.jobsTopic(), read -> read.stream().anyMatch(r -> r.key().equals(id)));
        assertEquals(claimed, JobRequest.fromJson(new JsonObject(
                jobs.stream().filter(r -> r.key().equals(id)).findFirst().orElseThrow().value())));
        assertEquals("queued", gateway.get("/v1/jobs/" + id, ALPHA_KEY).json().getString("status"));
    }

    @Test
    void aSecondRecordOfAnIdNeverReplacesTheFirst() {
        String key = "raced-" + UUID.randomUUID();
        JsonObject body = new JsonObject().put("prompt", "a teapot").put("seed", 5);
        String id = gateway.postJob(ALPHA_KEY, body, Map.of("Idempotency-Key", key)).json().getString("id");
        // A gateway that lost the race wrote its own record after the first one.
        gateway.publishJob(new JobRequest(id, "alpha", "a kettle", 6, 512, 512, 4, "tiue", java.time.Instant.now()));
        String marker = gateway.submit(ALPHA_KEY, "after the duplicate");
        gateway.awaitJob(marker, ALPHA_KEY, j -> true);

        JsonObject job = gateway.get("/v1/jobs/" + id, ALPHA_KEY).json();
        assertEquals("a teapot", job.getString("prompt"));
        assertEquals(5, job.getLong("seed"));
        assertEquals(202, gateway.postJob(ALPHA_KEY, body, Map.of("Idempotency-Key", key)).status());
    }

    @Test
    void idempotencyKeysAreScopedToTheTenant() {
        String key = "shared-" + UUID.randomUUID();
        JsonObject body = new JsonObject().put("prompt", "a teapot");

        String alphaJob = gateway.postJob(ALPHA_KEY, body, Map.of("Idempotency-Key", key)).json().getString("id");
        String betaJob = gateway.postJob(BETA_KEY, body, Map.of("Idempotency-Key", key)).json().getString("id");

        assertNotEquals(alphaJob, betaJob);
    }

    @Test
    void reusingAnIdempotencyKeyForADifferentRequestIsRejected() {
        String key = "reuse-" + UUID.randomUUID();
        gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a teapot"), Map.of("Idempotency-Key", key));

        TestGateway.Response response = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a kettle"),
                Map.of("Idempotency-Key", key));

        assertEquals(422, response.status());
        assertEquals("idempotency_key_reused", response.errorCode());
    }

    @Test
    void anotherTenantsJobIsNotFoundOnEveryEndpoint() {
        String id = gateway.submit(ALPHA_KEY, "alpha's secret");

        for (TestGateway.Response response : List.of(
                gateway.get("/v1/jobs/" + id, BETA_KEY),
                gateway.get("/v1/jobs/" + id + "/image", BETA_KEY),
                gateway.delete("/v1/jobs/" + id, BETA_KEY))) {
            assertEquals(404, response.status());
            assertEquals("not_found", response.errorCode());
            assertEquals("no job '" + id + "'", response.errorMessage(), "the same answer as for a job that does not exist");
        }
        assertEquals(404, gateway.get("/v1/jobs/" + UUID.randomUUID(), BETA_KEY).status());
    }

    @Test
    void aMalformedJobIdIsABadRequest() {
        TestGateway.Response response = gateway.get("/v1/jobs/not-a-job-id", ALPHA_KEY);

        assertEquals(400, response.status());
        assertEquals("invalid_request", response.errorCode());
        assertTrue(response.errorMessage().contains("not-a-job-id"), response.errorMessage());
    }

    @Test
    void healthEndpointsSayLiveAndReady() {
        assertEquals(200, gateway.get("/health/live", null).status());
        TestGateway.Response ready = gateway.get("/health/ready", null);
        assertEquals(200, ready.status(), ready.body());
        assertEquals("up", ready.json().getJsonObject("checks").getString("kafka"));
        assertEquals("up", ready.json().getJsonObject("checks").getString("s3"));
    }
}
