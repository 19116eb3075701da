package dev.oneway.standalone;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** What a user of Oneway does, with Vert.x's own HTTP and WebSocket clients, blocking for test readability. */
final class OnewayClient implements AutoCloseable {

    /** How long a test waits for something that must happen before calling it a failure (not a performance bound). */
    static final Duration PATIENCE = Duration.ofMinutes(2);

    record Reply(int status, MultiMap headers, Buffer body) {
        JsonObject json() {
            return body.length() == 0 ? new JsonObject() : body.toJsonObject();
        }

        String errorCode() {
            return json().getJsonObject("error", new JsonObject()).getString("code");
        }
    }

    private final HttpClient http;
    private final WebSocketClient webSockets;
    private final Context context;
    private final int port;

    OnewayClient(Vertx vertx, int port) {
        this.http = vertx.createHttpClient();
        this.webSockets = vertx.createWebSocketClient();
        // Tests call from their own thread; running each exchange on one event-loop context keeps Vert.x's
        // rule that a response's handlers are set on the thread that delivers it (else a fast body can be missed).
        this.context = vertx.getOrCreateContext();
        this.port = port;
    }

    private <T> Future<T> onContext(Supplier<Future<T>> exchange) {
        Promise<T> result = Promise.promise();
        context.runOnContext(v -> exchange.get().onComplete(result));
        return result.future();
    }

    Future<Reply> sendAsync(HttpMethod method, String path, String apiKey, JsonObject body, String idempotencyKey) {
        RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path);
        if (apiKey != null) {
            options.addHeader("Authorization", "Bearer " + apiKey);
        }
        if (idempotencyKey != null) {
            options.addHeader("Idempotency-Key", idempotencyKey);
        }
        if (body != null) {
            options.addHeader("Content-Type", "application/json");
        }
        return onContext(() -> http.request(options)
                .compose(request -> body == null ? request.send() : request.send(body.toBuffer()))
                .compose(response -> response.body().map(b -> new Reply(response.statusCode(), response.headers(), b))));
    }

    Future<Reply> submitAsync(String apiKey, JsonObject body) {
        return sendAsync(HttpMethod.POST, "/v1/jobs", apiKey, body, null);
    }

    Reply submit(String apiKey, JsonObject body) {
        return await(submitAsync(apiKey, body));
    }

    Reply submit(String apiKey, JsonObject body, String idempotencyKey) {
        return await(sendAsync(HttpMethod.POST, "/v1/jobs", apiKey, body, idempotencyKey));
    }

    Reply get(String apiKey, String path) {
        return await(sendAsync(HttpMethod.GET, path, apiKey, null, null));
    }

    Reply delete(String apiKey, String path) {
        return await(sendAsync(HttpMethod.DELETE, path, apiKey, null, null));
    }

    /** Polls GET /v1/jobs/{id} until the job satisfies the condition (typically: reached a terminal state). */
    JsonObject awaitJob(String apiKey, String id, Predicate<JsonObject> condition) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        JsonObject last = null;
        while (System.nanoTime() < deadline) {
            Reply reply = get(apiKey, "/v1/jobs/" + id);
            if (reply.status() == 200) {
                last = reply.json();
                if (condition.test(last)) {
                    return last;
                }
            }
            sleep(100);
        }
        throw new AssertionError("job " + id + " never got there; last seen: " + last);
    }

    JsonObject awaitFinished(String apiKey, String id) {
        return awaitJob(apiKey, id, job -> List.of("succeeded", "failed", "canceled").contains(job.getString("status")));
    }

    /** GETs an absolute URL such as a presigned image link. */
    Reply download(String url) {
        return await(onContext(() -> http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url))
                .compose(request -> request.send())
                .compose(response -> response.body().map(b -> new Reply(response.statusCode(), response.headers(), b)))));
    }

    /** Opens /v1/events with the key in the Authorization header. */
    EventSocket events(String apiKey) {
        List<JsonObject> frames = new CopyOnWriteArrayList<>();
        Promise<Short> closed = Promise.promise();
        WebSocket socket = await(onContext(() -> openEvents(apiKey, false).onSuccess(ws -> {
            ws.textMessageHandler(text -> frames.add(new JsonObject(text)));
            ws.closeHandler(v -> closed.tryComplete(ws.closeStatusCode()));
        })));
        return new EventSocket(socket, frames, closed.future());
    }

    Future<WebSocket> connectEvents(String apiKey, boolean keyAsQueryParameter) {
        return onContext(() -> openEvents(apiKey, keyAsQueryParameter));
    }

    private Future<WebSocket> openEvents(String apiKey, boolean keyAsQueryParameter) {
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
                .setURI(keyAsQueryParameter && apiKey != null ? "/v1/events?access_token=" + apiKey : "/v1/events");
        if (!keyAsQueryParameter && apiKey != null) {
            options.addHeader("Authorization", "Bearer " + apiKey);
        }
        return webSockets.connect(options);
    }

    @Override
    public void close() {
        http.close();
        webSockets.close();
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A connected /v1/events socket that records every JSON frame it receives. */
    static final class EventSocket implements AutoCloseable {
        private final WebSocket socket;
        private final List<JsonObject> frames;
        private final Future<Short> closed;

        /** The frame handler was set where the socket was opened, on its event loop, before any frame could arrive. */
        EventSocket(WebSocket socket, List<JsonObject> frames, Future<Short> closed) {
            this.socket = socket;
            this.frames = frames;
            this.closed = closed;
        }

        /** Completes with the status of the server's close frame (null when the connection dropped without one). */
        Future<Short> closed() {
            return closed;
        }

        List<JsonObject> frames() {
            return new ArrayList<>(frames);
        }

        List<JsonObject> eventsOf(String jobId) {
            return frames.stream().filter(f -> jobId.equals(f.getString("id"))).toList();
        }

        /** The job's event types in arrival order, without progress events. */
        List<String> lifecycleOf(String jobId) {
            return eventsOf(jobId).stream().map(f -> f.getString("type")).filter(t -> !t.equals("job.progress")).toList();
        }

        void send(JsonObject message) {
            await(socket.writeTextMessage(message.encode()));
        }

        void awaitUntil(String what, Predicate<EventSocket> condition) {
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (System.nanoTime() < deadline) {
                if (condition.test(this)) {
                    return;
                }
                sleep(50);
            }
            throw new AssertionError("never saw " + what + "; frames: " + frames);
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
