package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.oneway.common.Setting;
import dev.oneway.standalone.OnewayClient.EventSocket;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live previews and webhooks end to end, on one system as the standalone runs it (webhooks to private addresses
 * allowed): a job's owner sees a preview per sampler step before the terminal frame, and a job's webhook receives
 * its terminal event as one signed POST, retried under the same webhook-id when the receiver fails.
 */
class WebhooksAndPreviewsTest {

    static final String KEY = "key-hooks";
    static final String OTHER_KEY = "key-other";

    @TempDir
    static Path dataDir;
    static OnewaySystem system;
    static OnewayClient client;
    static int side;

    @BeforeAll
    static void startSystem() {
        system = OnewaySystem.builder()
                .dataDir(dataDir)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.API_KEYS, "hooks:" + KEY + ",other:" + OTHER_KEY)
                .set(Setting.MAX_BATCH_WAIT_MS, 300)
                .start();
        client = new OnewayClient(system.vertx(), system.httpPort());
        side = system.modelDefaults().width();
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

    /** One request a receiver got. */
    record Received(Map<String, List<String>> headers, String body) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    /** A plain JDK HTTP server on a free port that answers each POST with the status {@code answers} gives. */
    static final class Receiver implements AutoCloseable {
        final List<Received> requests = new CopyOnWriteArrayList<>();
        final HttpServer server;

        Receiver(IntSupplier answers) throws Exception {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/hooks/", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                requests.add(new Received(Map.copyOf(exchange.getRequestHeaders()), new String(body, StandardCharsets.UTF_8)));
                exchange.sendResponseHeaders(answers.getAsInt(), -1);
                exchange.close();
            });
            server.start();
        }

        String url(String path) {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/" + path;
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    JsonObject job(String prompt) {
        return new JsonObject().put("prompt", prompt).put("width", side).put("height", side).put("steps", 4);
    }

    @Test
    void aPreviewsJobsOwnerSeesOnePreviewPerStepInOrderBeforeTheTerminalFrame() throws Exception {
        try (EventSocket owner = client.events(KEY); EventSocket other = client.events(OTHER_KEY)) {
            // Submitted together so that they can share a batch: previews are made only for the row that asked.
            var withPreviews = client.submitAsync(KEY, job("a fox in the snow").put("seed", 7).put("previews", true));
            var without = client.submitAsync(KEY, job("a fox in the snow").put("seed", 8));
            String id = OnewayClient.await(withPreviews).json().getString("id");
            String plainId = OnewayClient.await(without).json().getString("id");
            assertEquals(true, client.get(KEY, "/v1/jobs/" + id).json().getBoolean("previews"));
            owner.awaitUntil("both jobs finish", s -> s.lifecycleOf(id).contains("job.succeeded")
                    && s.lifecycleOf(plainId).contains("job.succeeded"));

            List<String> lifecycle = owner.lifecycleOf(id);
            assertEquals(List.of("job.queued", "job.started", "job.preview", "job.preview", "job.preview", "job.preview",
                    "job.succeeded"), lifecycle, "frames of the previews job");
            List<JsonObject> previews = owner.eventsOf(id).stream()
                    .filter(f -> f.getString("type").equals("job.preview")).toList();
            for (int i = 0; i < previews.size(); i++) {
                JsonObject preview = previews.get(i).getJsonObject("preview");
                assertEquals(i + 1, preview.getInteger("step"), "previews come in step order");
                assertEquals(4, preview.getInteger("steps"));
                BufferedImage image = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(preview.getString("png"))));
                assertNotNull(image, "each preview is a PNG");
                assertTrue(image.getWidth() <= 128 && image.getHeight() <= 128, "at most 128 px a side");
                assertEquals(preview.getInteger("width"), image.getWidth());
                assertEquals(preview.getInteger("height"), image.getHeight());
            }
            assertEquals(List.of("job.queued", "job.started", "job.succeeded"), owner.lifecycleOf(plainId),
                    "a job that did not ask gets no previews, even in the same batch");
            assertTrue(other.eventsOf(id).isEmpty(), "another tenant sees nothing of the job");
        }
    }

    @Test
    void aWebhookReceivesExactlyOneSignedPostNamingTheJob() throws Exception {
        try (Receiver receiver = new Receiver(() -> 204)) {
            String id = client.submit(KEY, job("a lighthouse").put("webhook", receiver.url("one"))).json().getString("id");
            JsonObject done = client.awaitJob(KEY, id, j -> j.containsKey("webhook")
                    && !j.getJsonObject("webhook").getString("status").equals("pending"));
            JsonObject webhook = done.getJsonObject("webhook");
            assertEquals("delivered", webhook.getString("status"), done.encode());
            assertEquals(1, webhook.getInteger("attempts"));
            assertEquals(204, webhook.getInteger("lastStatus"));
            assertEquals(receiver.url("one"), webhook.getString("url"));

            assertEquals(1, receiver.requests.size(), "exactly one POST");
            Received post = receiver.requests.get(0);
            JsonObject body = new JsonObject(post.body());
            assertEquals("job.succeeded", body.getString("type"));
            assertEquals(id, body.getJsonObject("data").getString("id"));
            assertEquals("succeeded", body.getJsonObject("data").getString("status"));
            assertEquals(webhook.getString("id"), post.header("webhook-id"));
            long timestamp = Long.parseLong(post.header("webhook-timestamp"));
            assertTrue(Math.abs(System.currentTimeMillis() / 1000 - timestamp) < 300, "a current unix time in seconds");
            String secret = client.get(KEY, "/v1/webhook-secret").json().getString("secret");
            assertEquals(expectedSignature(secret, post), post.header("webhook-signature"));
        }
    }

    @Test
    void aReceiverThatFailsFirstGetsRetriesUnderTheSameWebhookId() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (Receiver receiver = new Receiver(() -> calls.incrementAndGet() == 1 ? 503 : 200)) {
            String id = client.submit(KEY, job("a windmill").put("webhook", receiver.url("retry?x=1"))).json().getString("id");
            JsonObject webhook = client.awaitJob(KEY, id, j -> j.containsKey("webhook")
                    && !j.getJsonObject("webhook").getString("status").equals("pending")).getJsonObject("webhook");
            assertEquals("delivered", webhook.getString("status"));
            assertEquals(2, webhook.getInteger("attempts"));
            assertEquals(200, webhook.getInteger("lastStatus"));
            assertEquals(2, receiver.requests.size());
            List<String> ids = new ArrayList<>();
            String secret = client.get(KEY, "/v1/webhook-secret").json().getString("secret");
            for (Received post : receiver.requests) {
                ids.add(post.header("webhook-id"));
                assertEquals(expectedSignature(secret, post), post.header("webhook-signature"), "each try is signed");
            }
            assertEquals(ids.get(0), ids.get(1), "a retry keeps its webhook-id");
        }
    }

    @Test
    void aReceiverThatRefusesWithA4xxIsNotRetriedAndTheFailureIsOnTheJob() throws Exception {
        try (Receiver receiver = new Receiver(() -> 410)) {
            String id = client.submit(KEY, job("a castle").put("webhook", receiver.url("gone"))).json().getString("id");
            JsonObject webhook = client.awaitJob(KEY, id, j -> j.containsKey("webhook")
                    && !j.getJsonObject("webhook").getString("status").equals("pending")).getJsonObject("webhook");
            assertEquals("failed", webhook.getString("status"));
            assertEquals(1, webhook.getInteger("attempts"));
            assertEquals(410, webhook.getInteger("lastStatus"));
            assertEquals(1, receiver.requests.size());
        }
    }

    /** Standard Webhooks' signature, computed here without Oneway's code: v1,base64(HMAC-SHA256(id.timestamp.body)). */
    static String expectedSignature(String secret, Received post) throws Exception {
        assertTrue(secret.startsWith("whsec_"), secret);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
        String signed = post.header("webhook-id") + "." + post.header("webhook-timestamp") + "." + post.body();
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8)));
    }
}
