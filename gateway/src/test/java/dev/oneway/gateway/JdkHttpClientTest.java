package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JDK's own HttpClient, at its default version (HTTP/2, which it asks for with an h2c upgrade on cleartext),
 * gets an answer to every request: after an oversized header, a malformed path or an unknown route, the next
 * request on the same client is answered too. Every request has a deadline; a hang fails the test.
 */
class JdkHttpClientTest {

    private static final Duration DEADLINE = Duration.ofSeconds(8);

    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = new TestGateway();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    /** What curl --http2-prior-knowledge sends first: refused at once (the connection is closed), never left hanging. */
    @Test
    void anHttp2PriorKnowledgeClientIsRefusedAtOnceNotLeftHanging() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout((int) DEADLINE.toMillis());
            socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            byte[] answer = socket.getInputStream().readAllBytes(); // SocketTimeoutException if the server hangs
            String text = new String(answer, StandardCharsets.US_ASCII);
            // Vert.x answers the preface with a plain-text 501 and closes: a refusal the client sees at once.
            assertTrue(text.isEmpty() || text.matches("(?s)HTTP/\\S+ [45]\\d\\d .*"), "closed, or refused: " + text);
        }
        HttpResponse<String> next = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.port() + "/health/live")).timeout(DEADLINE).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, next.statusCode(), "the gateway serves the next client as ever");
    }

    /**
     * curl --http2-prior-knowledge, as a user would type it: it ends at once with a clear error (the gateway speaks
     * HTTP/1.1 on cleartext and closes a connection that opens with the HTTP/2 preface), never waits for an answer
     * that does not come, and the gateway serves the next request.
     */
    @Test
    void curlWithHttp2PriorKnowledgeEndsAtOnceAndTheNextRequestIsServed() throws Exception {
        String url = "http://127.0.0.1:" + gateway.port() + "/health/live";
        Process curl = new ProcessBuilder("curl", "--http2-prior-knowledge", "-sS", "-o", "/dev/null",
                "-w", "%{http_code}", "--max-time", "60", url).redirectErrorStream(true).start();
        boolean ended = curl.waitFor(DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        if (!ended) {
            curl.destroyForcibly();
        }
        assertTrue(ended, "curl --http2-prior-knowledge got no answer within " + DEADLINE.toSeconds() + " s");
        String output = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // Either refused (a non-zero exit with curl's own message) or served; an HTTP/2 200 would be fine too.
        assertTrue(curl.exitValue() != 0 ? !output.isBlank() : output.endsWith("200"),
                "exit " + curl.exitValue() + ": " + output);

        Process next = new ProcessBuilder("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                String.valueOf(DEADLINE.toSeconds()), url).redirectErrorStream(true).start();
        assertTrue(next.waitFor(DEADLINE.toSeconds() + 2, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals("200", new String(next.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void everyRequestOfTheDefaultJdkClientIsAnsweredEvenAfterErrors() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(DEADLINE).build();
        assertEquals(HttpClient.Version.HTTP_2, client.version(), "the JDK's default, which users get");
        String base = "http://127.0.0.1:" + gateway.port();
        String hugeKey = "Bearer " + "k".repeat(20_000);
        for (int round = 0; round < 10; round++) {
            HttpResponse<String> tooLarge = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + UUID.randomUUID()))
                    .header("Authorization", hugeKey).timeout(DEADLINE).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(tooLarge.statusCode() == 431 || tooLarge.statusCode() == 401, "oversized header: " + tooLarge.statusCode());

            HttpResponse<String> accepted = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs"))
                    .header("Authorization", "Bearer " + ALPHA_KEY).header("Content-Type", "application/json")
                    .timeout(DEADLINE).POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"round " + round + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, accepted.statusCode(), accepted.body());
            String id = new JsonObject(accepted.body()).getString("id");

            HttpResponse<String> malformed = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/not-a-uuid"))
                    .header("Authorization", "Bearer " + ALPHA_KEY).timeout(DEADLINE).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, malformed.statusCode(), malformed.body());

            HttpResponse<String> read = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + id))
                    .header("Authorization", "Bearer " + ALPHA_KEY).timeout(DEADLINE).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, read.statusCode(), read.body());
        }
    }
}
