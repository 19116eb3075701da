package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.workerCopy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.oneway.common.EventType;
import dev.oneway.common.JobEvent;
import dev.oneway.common.Setting;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CancelJobTest {

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
    void cancelingAQueuedJobPublishesJobCanceledAndTheJobSaysSo() {
        String id = gateway.submit(ALPHA_KEY, "never mind");

        TestGateway.Response response = gateway.delete("/v1/jobs/" + id, ALPHA_KEY);

        assertEquals(200, response.status(), response.body());
        assertEquals("canceled", response.json().getString("status"));
        assertEquals("canceled", gateway.get("/v1/jobs/" + id, ALPHA_KEY).json().getString("status"));
        List<ConsumerRecord<String, String>> events = gateway.readTopic(Setting.EVENTS_TOPIC,
                read -> read.stream().anyMatch(r -> r.key().equals(id) && r.value().contains("job.cancel_requested")));
        List<EventType> types = events.stream().filter(r -> r.key().equals(id))
                .map(r -> JobEvent.fromJson(new JsonObject(r.value())).type()).toList();
        assertEquals(List.of(EventType.CANCEL_REQUESTED), types,
                "the gateway writes the request; the worker that reaches the record writes the terminal job.canceled");

        assertEquals(200, gateway.delete("/v1/jobs/" + id, ALPHA_KEY).status(), "canceling twice is harmless");
        TestGateway.Response image = gateway.get("/v1/jobs/" + id + "/image", ALPHA_KEY);
        assertEquals(404, image.status());
    }

    @Test
    void aCancelThatReachesTheLogAfterAWorkersStartIsRefusedAndTheJobRuns() {
        String id = gateway.submit(ALPHA_KEY, "a race");
        // A worker's start is on the log, but this gateway has not read it yet when the DELETE arrives.
        gateway.publishEvent(JobEvent.started(workerCopy(id, "alpha"), 1));

        TestGateway.Response response = gateway.delete("/v1/jobs/" + id, ALPHA_KEY);

        assertEquals(409, response.status(), response.body());
        assertEquals("not_cancelable", response.errorCode());
        assertEquals("running", gateway.get("/v1/jobs/" + id, ALPHA_KEY).json().getString("status"),
                "the job.canceled written after job.started does not count, for any reader");
    }

    @Test
    void aJobAWorkerHasStartedCannotBeCanceled() {
        String id = gateway.submit(ALPHA_KEY, "already drawing");
        gateway.publishEvent(JobEvent.started(workerCopy(id, "alpha"), 1));
        gateway.awaitJob(id, ALPHA_KEY, j -> j.getString("status").equals("running"));

        TestGateway.Response response = gateway.delete("/v1/jobs/" + id, ALPHA_KEY);

        assertEquals(409, response.status());
        assertEquals("not_cancelable", response.errorCode());
        assertEquals("running", gateway.get("/v1/jobs/" + id, ALPHA_KEY).json().getString("status"));
    }
}
