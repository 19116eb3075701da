package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.JobRequest;
import dev.oneway.common.Setting;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The WebSocket endpoint's bounds, with real WebSocket clients: a client that stops reading is closed with 1008 and a
 * reason once its write queue stays full (the gateway never buffers for it without end, and a reading client of the
 * same tenant gets every event), and a message over the size limit is answered with a 1009 close, not dropped.
 */
class WebSocketLimitsTest {

    /** Room for about 8 of the 60 KB frames; the paused client's backlog (12 MB) overflows it many times over. */
    private static final int WRITE_QUEUE_BYTES = 512 * 1024;
    /** Jobs published at once: a burst the reading client can always hold in its queue. */
    private static final int CHUNK = 4;
    private static final int PROMPT_CHARS = 60_000;
    private static final int JOBS = 200; // 200 frames of 60 KB: 12 MB, more than any socket buffers hold

    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = new TestGateway(Map.of(Setting.WS_WRITE_QUEUE_BYTES, WRITE_QUEUE_BYTES));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void aClientThatStopsReadingIsClosedWithAReasonWhileAReadingClientGetsEveryEvent() throws Exception {
        TestGateway.Socket reader = gateway.connect(ALPHA_KEY);
        WebSocketClient smallBuffers = gateway.vertx.createWebSocketClient(new WebSocketClientOptions()
                .setReceiveBufferSize(8 * 1024).setMaxMessageSize(1 << 20));
        Promise<Void> closed = Promise.promise();
        AtomicInteger framesOfTheSlowClient = new AtomicInteger();
        WebSocket slow = TestGateway.await(gateway.onClientContext(() -> smallBuffers.connect(new WebSocketConnectOptions()
                .setHost("localhost").setPort(gateway.port()).setURI("/v1/events")
                .addHeader("Authorization", "Bearer " + ALPHA_KEY)).onSuccess(socket -> {
                    socket.textMessageHandler(text -> framesOfTheSlowClient.incrementAndGet());
                    socket.closeHandler(v -> closed.tryComplete());
                    socket.pause(); // reads nothing from now on
                })));

        String prompt = "p".repeat(PROMPT_CHARS);
        List<JobRequest> jobs = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
            jobs.add(new JobRequest(UUID.randomUUID().toString(), "alpha", prompt, i, 512, 512, 4, "tiue", Instant.now()));
        }
        // Published a few at a time, each batch read by the reading client before the next: it keeps up, as a reader
        // does, while the paused client's backlog only grows (a burst faster than any client reads is another matter:
        // the queue limit is what a client may fall behind by).
        for (int from = 0; from < JOBS; from += CHUNK) {
            gateway.publishJobs(jobs.subList(from, Math.min(JOBS, from + CHUNK)));
            for (int i = from; i < Math.min(JOBS, from + CHUNK); i++) {
                JsonObject frame;
                try {
                    frame = reader.next();
                } catch (AssertionError e) {
                    throw new AssertionError("the reading client got " + i + " of " + JOBS + " frames: " + e.getMessage(), e);
                }
                assertEquals("job.queued", frame.getString("type"), "the reading client's frame " + i);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!gateway.get("/metrics", null).body().contains("oneway_websocket_closed_slow_total 1.0")) {
            assertTrue(System.nanoTime() < deadline, "the slow client was not closed");
            TestGateway.sleep(50);
        }
        gateway.onClientContext(() -> {
            slow.resume(); // reads what was sent before the close frame, then the close frame itself
            return io.vertx.core.Future.succeededFuture();
        });
        TestGateway.await(closed.future());
        assertEquals((short) 1008, slow.closeStatusCode());
        assertTrue(slow.closeReason().startsWith("too slow"), slow.closeReason());
        assertTrue(framesOfTheSlowClient.get() < JOBS, "it got " + framesOfTheSlowClient.get() + " frames before the close");
    }

    @Test
    void aMessageOverTheLimitIsClosedWith1009WhetherOneFrameOrSeveral() {
        int limit = Integer.parseInt(Setting.WS_MAX_MESSAGE_BYTES.defaultValue());
        for (int clientFrameSize : new int[] {2 * limit, limit / 2}) {
            WebSocketClient client = gateway.vertx.createWebSocketClient(new WebSocketClientOptions()
                    .setMaxFrameSize(clientFrameSize).setMaxMessageSize(4 * limit));
            Promise<Void> closed = Promise.promise();
            WebSocket socket = TestGateway.await(gateway.onClientContext(() -> client.connect(new WebSocketConnectOptions()
                    .setHost("localhost").setPort(gateway.port()).setURI("/v1/events")
                    .addHeader("Authorization", "Bearer " + ALPHA_KEY)).onSuccess(ws -> ws.closeHandler(v -> closed.tryComplete()))));
            // One frame over the limit, or (client frames of half the limit) a message of three frames.
            String message = "{\"subscribe\": [\"" + "x".repeat(limit + limit / 4) + "\"]}";
            gateway.onClientContext(() -> socket.writeTextMessage(message));
            TestGateway.await(closed.future());
            assertEquals((short) 1009, socket.closeStatusCode(), "client frames of " + clientFrameSize + " bytes");
            assertTrue(socket.closeReason().contains(String.valueOf(limit)), socket.closeReason());
        }
        // A message within the limit is still answered as ever.
        TestGateway.Socket fine = gateway.connect(ALPHA_KEY);
        fine.send("{\"subscribe\": []}");
        assertEquals("subscribed", fine.next().getString("type"));
    }
}
