package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.oneway.common.Setting;
import dev.oneway.standalone.OnewayClient.EventSocket;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parts of a running system go away and come back; no accepted job is lost or finished twice. */
class FaultToleranceTest {

    static final String KEY = "key-alpha";

    @TempDir
    static Path dataDir;
    static OnewaySystem system;
    static OnewayClient client;

    @BeforeAll
    static void startSystem() {
        system = OnewaySystem.builder()
                .dataDir(dataDir)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.API_KEYS, "alpha:" + KEY)
                .set(Setting.JOBS_PARTITIONS, 2)
                .set(Setting.MAX_BATCH_SIZE, 4)
                .start();
        client = new OnewayClient(system.vertx(), system.httpPort());
    }

    @AfterAll
    static void stopSystem() {
        if (client != null) {
            client.close();
        }
        if (system != null) {
            system.close();
        }
    }

    @Test
    void jobsAcceptedAroundABrokerRestartAllFinishExactlyOnce() {
        try (EventSocket events = client.events(KEY)) {
            List<String> ids = submit(6, "before the broker restart");
            system.kafka().restart();
            ids.addAll(submitUntilAccepted(3, "after the broker restart"));

            for (String id : ids) {
                assertEquals("succeeded", client.awaitFinished(KEY, id).getString("status"), id);
            }
            events.awaitUntil("every job succeed",
                    s -> ids.stream().allMatch(id -> s.lifecycleOf(id).contains("job.succeeded")));
            for (String id : ids) {
                assertEquals(1, events.lifecycleOf(id).stream().filter(t -> t.equals("job.succeeded")).count(),
                        "one terminal event for " + id);
            }
        }
    }

    @Test
    void stoppedWorkersFinishTheirBatchAndRestartedWorkersTakeTheRest() {
        try (EventSocket events = client.events(KEY)) {
            List<String> ids = submit(12, "across a worker restart");
            system.stopWorkers();
            // Jobs a stopping worker had started are finished; the others wait in Kafka, uncommitted.
            system.startWorkers();

            for (String id : ids) {
                assertEquals("succeeded", client.awaitFinished(KEY, id).getString("status"), id);
            }
            events.awaitUntil("every job succeed",
                    s -> ids.stream().allMatch(id -> s.lifecycleOf(id).contains("job.succeeded")));
            for (String id : ids) {
                List<String> lifecycle = events.lifecycleOf(id);
                assertEquals(1, lifecycle.stream().filter(t -> t.equals("job.succeeded")).count(), "one terminal event for " + id);
                assertEquals("job.succeeded", lifecycle.get(lifecycle.size() - 1));
            }
        }
    }

    private static List<String> submit(int count, String prompt) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            OnewayClient.Reply reply = client.submit(KEY, job(prompt + " " + i));
            assertEquals(202, reply.status(), reply.body().toString());
            ids.add(reply.json().getString("id"));
        }
        return ids;
    }

    /** Right after a broker restart the gateway may answer 503 until its clients reconnect; a client retries. */
    private static List<String> submitUntilAccepted(int count, String prompt) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            OnewayClient.Reply reply = client.submit(KEY, job(prompt + " " + i));
            while (reply.status() == 503) {
                OnewayClient.sleep(200);
                reply = client.submit(KEY, job(prompt + " " + i));
            }
            assertEquals(202, reply.status(), reply.body().toString());
            ids.add(reply.json().getString("id"));
        }
        return ids;
    }

    private static JsonObject job(String prompt) {
        int side = system.modelDefaults().width();
        return new JsonObject().put("prompt", prompt).put("width", side).put("height", side);
    }
}
