package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.SD15;
import static dev.oneway.gateway.TestGateway.TINY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.JobRequest;
import dev.oneway.common.ModelAnnouncement;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Models are what workers announce: GET /v1/models shows each model of the deployment with its announced limits and
 * live workers, a job names a model (or gets the default), is held to that model's limits and goes to its jobs topic.
 */
class ModelsTest {

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
    void theModelsAreListedWithTheirAnnouncedLimitsAndWorkersForAKeyOnly() {
        assertEquals(401, gateway.get("/v1/models", null).status());

        TestGateway.Response response = gateway.get("/v1/models", ALPHA_KEY);

        assertEquals(200, response.status(), response.body());
        JsonObject body = response.json();
        assertEquals(SD15, body.getString("defaultModel"));
        JsonArray models = body.getJsonArray("models");
        assertEquals(2, models.size(), body.encode());
        JsonObject sd15 = models.getJsonObject(0);
        assertEquals(SD15, sd15.getString("name"));
        assertEquals(true, sd15.getBoolean("default"));
        assertEquals("ready", sd15.getString("status"));
        assertEquals(1, sd15.getInteger("workers"));
        assertEquals(512, sd15.getInteger("nativeWidth"));
        assertEquals(64, sd15.getInteger("sizeMultiple"));
        assertEquals(1024, sd15.getInteger("maxSide"));
        assertEquals(4, sd15.getInteger("defaultSteps"));
        assertEquals(50, sd15.getInteger("maxSteps"));
        assertEquals(new JsonArray().add("tiue").add("looped"), sd15.getJsonArray("samplers"));
        assertEquals(new JsonArray().add("vae").add("taesd"), sd15.getJsonArray("decoders"));
        JsonObject tiny = models.getJsonObject(1);
        assertEquals(TINY, tiny.getString("name"));
        assertEquals(false, tiny.getBoolean("default"));
        assertEquals(16, tiny.getInteger("sizeMultiple"));
        assertEquals(128, tiny.getInteger("maxSide"));
    }

    @Test
    void aJobNamingAModelGetsThatModelsDefaultsAndGoesToItsJobsTopicOnly() {
        TestGateway.Response response = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a tiny fox").put("model", TINY));

        assertEquals(202, response.status(), response.body());
        JsonObject job = response.json();
        assertEquals(TINY, job.getString("model"));
        assertEquals(64, job.getInteger("width"), "the tiny model's native size");
        String id = job.getString("id");
        List<ConsumerRecord<String, String>> onTiny = gateway.readTopic(Topics.jobs(gateway.config, TINY),
                read -> read.stream().anyMatch(r -> r.key().equals(id)));
        assertEquals(TINY, JobRequest.fromJson(new JsonObject(onTiny.stream().filter(r -> r.key().equals(id))
                .findFirst().orElseThrow().value())).model());
        String marker = gateway.submit(ALPHA_KEY, "a job for the default model, read up to");
        List<ConsumerRecord<String, String>> onSd15 = gateway.readTopic(Topics.jobs(gateway.config, SD15),
                read -> read.stream().anyMatch(r -> r.key().equals(marker)));
        assertTrue(onSd15.stream().noneMatch(r -> r.key().equals(id)), "each model's jobs are on its own topic");
        assertEquals(SD15, gateway.get("/v1/jobs/" + marker, ALPHA_KEY).json().getString("model"), "the default model");
        assertEquals(TINY, gateway.get("/v1/jobs/" + id, ALPHA_KEY).json().getString("model"),
                "the job view follows every model's jobs topic");
    }

    @Test
    void anUnknownModelIsRefusedWithTheModelsListed() {
        TestGateway.Response response = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a cat").put("model", "sdxl"));

        assertEquals(400, response.status(), response.body());
        assertEquals("invalid_request", response.errorCode());
        assertTrue(response.errorMessage().contains(SD15) && response.errorMessage().contains(TINY), response.errorMessage());
    }

    @Test
    void aSizeIsHeldToTheLimitsOfTheModelTheJobNames() {
        JsonObject wide = new JsonObject().put("prompt", "a cat").put("width", 256).put("height", 256);

        assertEquals(202, gateway.postJob(ALPHA_KEY, wide.copy().put("model", SD15)).status(), "within sd15's limits");
        TestGateway.Response tooWide = gateway.postJob(ALPHA_KEY, wide.copy().put("model", TINY));

        assertEquals(400, tooWide.status(), tooWide.body());
        assertEquals("width must be a multiple of 16 from 16 to 128, got 256 (model tiny)", tooWide.errorMessage());
        TestGateway.Response offGrid = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a cat").put("width", 96));
        assertEquals("width must be a multiple of 64 from 64 to 1024, got 96 (model sd15)", offGrid.errorMessage());
    }

    @Test
    void aDecoderIsHeldToTheDecodersOfTheModelTheJobNames() {
        JsonObject draft = new JsonObject().put("prompt", "a cat").put("decoder", "taesd");

        assertEquals(202, gateway.postJob(ALPHA_KEY, draft.copy().put("model", SD15)).status(), "sd15 announces taesd");
        TestGateway.Response noTaesd = gateway.postJob(ALPHA_KEY, draft.copy().put("model", TINY));

        assertEquals(400, noTaesd.status(), noTaesd.body());
        assertEquals("decoder must be one of vae, got 'taesd' (model tiny)", noTaesd.errorMessage());
    }

    @Test
    void aModelNoWorkerAnnouncedIsUnavailableUntilOneDoesAndKeepsItsLimitsWhenItsWorkersGo() {
        Instant now = Instant.now();
        try (TestGateway pending = new TestGateway(Map.of(Setting.MODELS, "later"))) {
            TestGateway.Response early = pending.postJob(ALPHA_KEY, new JsonObject().put("prompt", "too early"));
            assertEquals(503, early.status(), early.body());
            assertEquals("model_unavailable", early.errorCode());
            assertTrue(early.headers().contains("Retry-After"));
            JsonObject listed = pending.get("/v1/models", ALPHA_KEY).json().getJsonArray("models").getJsonObject(0);
            assertEquals("not_announced", listed.getString("status"));
            assertEquals(0, listed.getInteger("workers"));

            ModelAnnouncement a = TestGateway.announcement("later", 64, 16, 128, 4, 50);
            pending.announce(a);
            assertEquals(202, pending.postJob(ALPHA_KEY, new JsonObject().put("prompt", "in time")).status(),
                    "a fresh announcement is read before the gateway answers");

            // The worker stops on purpose: its limits stay known under the model's key, its own key is a tombstone.
            ModelAnnouncement last = new ModelAnnouncement(a.model(), a.worker(), a.family(), a.width(), a.height(),
                    a.sizeMultiple(), a.maxSide(), a.defaultSteps(), a.maxSteps(), a.samplers(), a.defaultSampler(),
                    a.decoders(), now, now);
            pending.sendModelRecord(a.model(), last.toJson().encode());
            pending.sendModelRecord(a.key(), null);
            pending.restart(); // a gateway started later reads the same
            JsonObject after = pending.get("/v1/models", ALPHA_KEY).json().getJsonArray("models").getJsonObject(0);
            assertEquals("no_workers", after.getString("status"), after.encode());
            assertEquals(0, after.getInteger("workers"));
            assertEquals(128, after.getInteger("maxSide"));
            TestGateway.Response waiting = pending.postJob(ALPHA_KEY, new JsonObject().put("prompt", "waits for a worker"));
            assertEquals(202, waiting.status(), "jobs wait in the model's topic for its next worker");
            assertEquals(64, waiting.json().getInteger("width"));
        }
    }

    @Test
    void aCrashedWorkersAnnouncementAgesOut() {
        Instant past = Instant.now().minusSeconds(120);
        try (TestGateway gone = new TestGateway(Map.of(), new ModelAnnouncement("crashed", "w9", "sd21", 64, 64, 16, 128,
                4, 50, List.of("tiue"), "tiue", List.of("vae", "taesd"), past, past.plusSeconds(30)))) {
            JsonObject model = gone.get("/v1/models", ALPHA_KEY).json().getJsonArray("models").getJsonObject(0);

            assertEquals(0, model.getInteger("workers"), model.encode());
            assertEquals("no_workers", model.getString("status"));
            assertEquals("sd21", model.getString("family"));
            assertEquals(new JsonArray().add("vae").add("taesd"), model.getJsonArray("decoders"));
            TestGateway.Response looped = gone.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a cat").put("sampler", "looped"));
            assertEquals(400, looped.status(), looped.body());
            assertEquals("sampler must be one of tiue, got 'looped' (model crashed)", looped.errorMessage());
        }
    }
}
