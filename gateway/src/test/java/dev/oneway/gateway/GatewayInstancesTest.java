package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.Setting;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A gateway on several event loops (ONEWAY_HTTP_INSTANCES) is one gateway to its clients: connections are spread over
 * the instances, and whichever instance a request or a WebSocket lands on, it sees the same jobs (read-your-writes
 * across event loops) and every subscriber hears each event exactly once.
 */
class GatewayInstancesTest {

    private static final int INSTANCES = 3;

    static TestGateway gateway;
    /** No keep-alive: each request is a new connection, which Vert.x hands to the next instance in turn. */
    static HttpClient freshConnections;

    @BeforeAll
    static void start() {
        gateway = new TestGateway(Map.of(Setting.HTTP_INSTANCES, INSTANCES));
        freshConnections = gateway.vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false)
                .setDefaultHost("localhost").setDefaultPort(gateway.port()));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void aJobAcceptedOnOneEventLoopIsSeenAtOnceOnEveryOtherAndEverySubscriberHearsItOnce() throws Exception {
        List<TestGateway.Socket> sockets = new ArrayList<>();
        for (int i = 0; i < 2 * INSTANCES; i++) {
            sockets.add(gateway.connect(ALPHA_KEY));
        }
        for (int round = 0; round < 2 * INSTANCES; round++) {
            JsonObject accepted = new JsonObject(request(HttpMethod.POST, "/v1/jobs",
                    new JsonObject().put("prompt", "round " + round).encode(), 202));
            String id = accepted.getString("id");
            // Each GET on a new connection: the next instances, none of which took the POST.
            for (int i = 0; i < INSTANCES; i++) {
                JsonObject job = new JsonObject(request(HttpMethod.GET, "/v1/jobs/" + id, null, 200));
                assertEquals("queued", job.getString("status"));
            }
            for (TestGateway.Socket socket : sockets) {
                JsonObject queued = socket.next();
                assertEquals(id, queued.getString("id"));
                assertEquals("job.queued", queued.getString("type"));
            }
        }
        for (TestGateway.Socket socket : sockets) {
            assertTrue(socket.frames.poll(300, TimeUnit.MILLISECONDS) == null, "each event came once");
        }
    }

    private static String request(HttpMethod method, String uri, String body, int expectedStatus) {
        RequestOptions options = new RequestOptions().setMethod(method).setURI(uri)
                .putHeader("Authorization", "Bearer " + ALPHA_KEY).putHeader("Content-Type", "application/json");
        TestGateway.Response response = TestGateway.await(gateway.onClientContext(() -> freshConnections.request(options)
                .compose(req -> body == null ? req.send() : req.send(body))
                .compose(resp -> resp.body().map(b -> new TestGateway.Response(resp.statusCode(), resp.headers(), b.toString())))));
        assertEquals(expectedStatus, response.status(), response.body());
        return response.body();
    }
}
