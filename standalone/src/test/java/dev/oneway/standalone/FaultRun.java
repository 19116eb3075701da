package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.standalone.OnewayClient.EventSocket;
import dev.oneway.standalone.OnewayClient.Reply;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * One fault test's bookkeeping and its promises. It submits jobs for several tenants, listens to each tenant's
 * WebSocket from before the fault to the end, and {@link #finish} checks what every fault test asserts: every
 * accepted job reaches exactly one terminal state, every succeeded job's object exists and decodes, no tenant sees
 * another's job. It then records the test's row for docs/reliability.md.
 */
final class FaultRun implements AutoCloseable {

    record Job(String id, String key, String expectedStatus) { }

    private final int order;
    private final String fault;
    private final String test;
    private final OnewayClient client;
    private final Map<String, EventSocket> socketByKey = new LinkedHashMap<>();
    private final List<Job> jobs = new ArrayList<>();
    private long faultEndedAt = System.nanoTime();

    /** Opens one event socket per key before anything happens, so the sockets see every event of the run. */
    FaultRun(int order, String fault, String test, OnewayClient client, List<String> keys) {
        this.order = order;
        this.fault = fault;
        this.test = test;
        this.client = client;
        keys.forEach(key -> socketByKey.put(key, client.events(key)));
    }

    /** Submits a job expected to succeed; a 503 (Kafka not reachable yet) is retried as a client would. */
    String submit(String key, JsonObject body) {
        return submit(key, body, "succeeded");
    }

    String submit(String key, JsonObject body, String expectedStatus) {
        Reply reply = client.submit(key, body);
        while (reply.status() == 503) {
            OnewayClient.sleep(200);
            reply = client.submit(key, body);
        }
        assertEquals(202, reply.status(), reply.body().toString());
        String id = reply.json().getString("id");
        jobs.add(new Job(id, key, expectedStatus));
        return id;
    }

    /** Records a job accepted through another gateway (it is still checked through this run's client). */
    void accepted(String id, String key) {
        jobs.add(new Job(id, key, "succeeded"));
    }

    List<Job> jobs() {
        return List.copyOf(jobs);
    }

    /** The fault is over (the part is back, the process gone); recovery time is counted from here. */
    void faultEnded() {
        faultEndedAt = System.nanoTime();
    }

    /** Waits for every job to end, checks every promise, records the row; returns each job as GET shows it at the end. */
    Map<String, JsonObject> finish() {
        Map<String, JsonObject> finals = new HashMap<>();
        List<String> lost = new ArrayList<>();
        for (Job job : jobs) {
            try {
                finals.put(job.id(), client.awaitFinished(job.key(), job.id()));
            } catch (AssertionError e) {
                lost.add(job.id());
            }
        }
        double recoverySeconds = (System.nanoTime() - faultEndedAt) / 1e9;
        if (lost.isEmpty()) {
            for (Map.Entry<String, EventSocket> e : socketByKey.entrySet()) {
                List<String> own = jobs.stream().filter(j -> j.key().equals(e.getKey())).map(Job::id).toList();
                e.getValue().awaitUntil("a terminal event for each of " + own,
                        s -> own.stream().allMatch(id -> terminalEvents(s, id) > 0));
            }
        }
        int duplicates = 0;
        for (Job job : jobs) {
            duplicates += Math.max(0, terminalEvents(socketByKey.get(job.key()), job.id()) - 1);
        }
        ReliabilityReport.record(new ReliabilityReport.Row(order, fault, test, jobs.size(), lost.size(), duplicates,
                recoverySeconds));

        assertEquals(List.of(), lost, "accepted jobs that never reached a terminal state");
        assertEquals(0, duplicates, "terminal events seen twice by a client");
        for (Job job : jobs) {
            JsonObject last = finals.get(job.id());
            assertEquals(job.expectedStatus(), last.getString("status"), last.encode());
            if ("succeeded".equals(last.getString("status"))) {
                assertImageDecodes(last);
            }
            for (String otherKey : socketByKey.keySet()) {
                if (!otherKey.equals(job.key())) {
                    assertEquals(404, client.get(otherKey, "/v1/jobs/" + job.id()).status(), "another tenant's job is 404");
                }
            }
        }
        for (Map.Entry<String, EventSocket> e : socketByKey.entrySet()) {
            Set<String> own = new HashSet<>(jobs.stream().filter(j -> j.key().equals(e.getKey())).map(Job::id).toList());
            for (JsonObject frame : e.getValue().frames()) {
                String id = frame.getString("id");
                assertTrue(id == null || own.contains(id), "a socket saw a job that is not its tenant's: " + frame);
            }
        }
        return finals;
    }

    static int terminalEvents(EventSocket socket, String id) {
        return (int) socket.lifecycleOf(id).stream()
                .filter(t -> t.equals("job.succeeded") || t.equals("job.failed") || t.equals("job.canceled"))
                .count();
    }

    private void assertImageDecodes(JsonObject job) {
        JsonObject result = job.getJsonObject("result");
        Reply png = client.download(result.getString("url"));
        assertEquals(200, png.status(), "the object of job " + job.getString("id") + " exists");
        try {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png.body().getBytes()));
            assertNotNull(image, "the object of job " + job.getString("id") + " is a PNG");
            assertEquals(job.getInteger("width"), image.getWidth());
            assertEquals(job.getInteger("height"), image.getHeight());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        socketByKey.values().forEach(EventSocket::close);
    }
}
