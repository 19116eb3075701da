package dev.oneway.bench;

import dev.oneway.standalone.OnewaySystem;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The demo tenant of a running {@link OnewaySystem}, as the system benchmarks use it: its events socket, which notes
 * each job's first job.succeeded frame and when it arrived, and job submission over HTTP.
 */
final class SystemClient {

    /** Called with a submitted job's id and the moment its request started (System.nanoTime). */
    interface Accepted {
        void accept(String id, long startNanos);
    }

    /** job.succeeded frames by job id. */
    final Map<String, JsonObject> finished = new ConcurrentHashMap<>();
    /** When each of them arrived (System.nanoTime). */
    final Map<String, Long> arrived = new ConcurrentHashMap<>();
    private final Vertx vertx;
    private final HttpClientAgent http;
    /** Held for as long as this client lives: Vert.x closes a client, and its sockets, once it is unreachable. */
    private final WebSocketClient events;
    private final RequestOptions post;

    private SystemClient(OnewaySystem system) {
        this.vertx = system.vertx();
        this.http = vertx.createHttpClient();
        this.events = vertx.createWebSocketClient();
        this.post = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(system.httpPort())
                .setURI("/v1/jobs").putHeader("Authorization", "Bearer demo-key").putHeader("Content-Type", "application/json");
    }

    /** Connects the tenant's events socket; returns once it is open. */
    static SystemClient connect(OnewaySystem system) throws InterruptedException {
        SystemClient client = new SystemClient(system);
        CountDownLatch connected = new CountDownLatch(1);
        client.vertx.runOnContext(v -> client.events
                .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(system.httpPort())
                        .setURI("/v1/events").addHeader("Authorization", "Bearer demo-key"))
                .onSuccess(socket -> {
                    socket.textMessageHandler(text -> {
                        long now = System.nanoTime();
                        JsonObject frame = new JsonObject(text);
                        if ("job.succeeded".equals(frame.getString("type"))
                                && client.finished.putIfAbsent(frame.getString("id"), frame) == null) {
                            client.arrived.put(frame.getString("id"), now);
                        } else if ("job.failed".equals(frame.getString("type"))) {
                            System.err.println("[bench] a job failed: " + text);
                        }
                    });
                    connected.countDown();
                })
                .onFailure(err -> System.err.println("[bench] the events WebSocket did not open: " + err)));
        if (!connected.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the events WebSocket did not open in 30 s");
        }
        return client;
    }

    /** POSTs one job; {@code onAccepted} hears its id when the answer is 202, and a failure is printed. */
    void submit(JsonObject body, Accepted onAccepted) {
        long startNanos = System.nanoTime();
        Buffer encoded = Buffer.buffer(body.encode());
        vertx.runOnContext(v -> http.request(post)
                .compose(req -> req.send(encoded))
                .compose(resp -> resp.body().map(b -> {
                    if (resp.statusCode() != 202) {
                        throw new IllegalStateException("submit answered " + resp.statusCode() + ": " + b);
                    }
                    return new JsonObject(b).getString("id");
                }))
                .onSuccess(id -> onAccepted.accept(id, startNanos))
                .onFailure(err -> System.err.println("[bench] submit failed: " + err)));
    }

    static void waitUntil(BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + seconds + " s");
            }
            Thread.sleep(20);
        }
    }
}
