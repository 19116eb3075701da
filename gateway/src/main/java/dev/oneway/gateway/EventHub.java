package dev.oneway.gateway;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket fan-out of one HTTP event loop: each connection receives its own tenant's job events as JSON text
 * frames, all of them until it sends {"subscribe": ["id", ...]}, then only those jobs'. Lives on its event loop, so
 * its state needs no locking. An event is encoded once here and the same bytes go to every client that wants it.
 *
 * <p>Bounded on both sides: a client that does not read its events gets at most ONEWAY_WS_WRITE_QUEUE_BYTES held for
 * it; an event that finds that queue still full closes the connection (1008, with a reason), so a slow consumer
 * never makes the gateway buffer without end. A client message over ONEWAY_WS_MAX_MESSAGE_BYTES closes it with 1009.
 */
final class EventHub {

    private static final Logger log = LoggerFactory.getLogger(EventHub.class);
    private static final int MAX_SUBSCRIPTIONS = 1000;
    private static final short GOING_AWAY = 1001;
    private static final short POLICY_VIOLATION = 1008;
    private static final short MESSAGE_TOO_BIG = 1009;
    private static final Set<String> SUBSCRIBE_FIELDS = Set.of("subscribe", "replay");

    private final class Client {
        final ServerWebSocket socket;
        final String tenant;
        /** Null until the first subscribe: the client sees every job of its tenant. */
        Set<String> jobIds;
        /** The client's messages are answered in the order they came, each after the log is read (see onMessage). */
        Future<Void> handled = Future.succeededFuture();
        boolean closed;

        Client(ServerWebSocket socket, String tenant) {
            this.socket = socket;
            this.tenant = tenant;
        }

        boolean wants(JobEvent event) {
            return !closed && tenant.equals(event.tenant()) && (jobIds == null || jobIds.contains(event.id()));
        }

        void send(JsonObject frame) {
            send(TextFrame.of(frame));
        }

        /**
         * Writes the frame unless the queue of what this client has not read yet is still full from before: then
         * the client is too slow to follow its events and is told so with a close frame. One write may overshoot
         * the limit; the next finds the queue full unless it drained meanwhile.
         */
        void send(TextFrame frame) {
            if (closed) {
                return;
            }
            try {
                if (socket.writeQueueFull()) {
                    close(POLICY_VIOLATION, "too slow: events were not read; reconnect and subscribe with replay");
                    metrics.slowWebSocketClosed();
                    return;
                }
                socket.writeFrame(frame.frame());
            } catch (IllegalStateException closedMeanwhile) {
                closed = true; // its close handler has not run yet; it removes the client
            }
        }

        void close(short status, String reason) {
            if (!closed) {
                closed = true;
                clients.remove(this);
                socket.close(status, reason).onFailure(err -> socket.close());
            }
        }

        void sendError(ApiError error) {
            send(error.error.toBody());
        }
    }

    private final Vertx vertx;
    private final JobView view;
    private final JobViewVerticle viewReader;
    private final ImageLinks links;
    private final Set<Client> clients = new LinkedHashSet<>();
    private final GatewayMetrics metrics;
    private final int writeQueueBytes;
    private final int maxMessageBytes;
    private final long pingTimer;
    /** Frames go out in event order even though presigning a succeeded event's URL is asynchronous. */
    private Future<Void> delivered = Future.succeededFuture();
    private boolean closing;

    EventHub(Vertx vertx, JobView view, JobViewVerticle viewReader, ImageLinks links, long pingIntervalMs,
             int writeQueueBytes, int maxMessageBytes, GatewayMetrics metrics) {
        this.vertx = vertx;
        this.view = view;
        this.viewReader = viewReader;
        this.links = links;
        this.metrics = metrics;
        this.writeQueueBytes = writeQueueBytes;
        this.maxMessageBytes = maxMessageBytes;
        this.pingTimer = vertx.setPeriodic(pingIntervalMs, id -> clients.forEach(c -> c.socket.writePing(Buffer.buffer())));
    }

    void join(ServerWebSocket socket, String tenant) {
        if (closing) {
            socket.close(GOING_AWAY, "gateway shutting down");
            return;
        }
        Client client = new Client(socket, tenant);
        clients.add(client);
        metrics.webSockets(1);
        socket.setWriteQueueMaxSize(writeQueueBytes);
        // Each message is answered after the read barrier, so a job answered 202 a moment ago (by this gateway or
        // another) is found when its client subscribes; answers keep the order of the messages.
        socket.textMessageHandler(text -> client.handled = client.handled.transform(ar -> viewReader
                .readToEndOrAsIs(vertx.getOrCreateContext())
                .onComplete(read -> onMessage(client, text))));
        socket.binaryMessageHandler(data -> client.handled = client.handled.transform(ar -> {
            client.sendError(usage("binary frames are not understood")); // in order with the answers to text frames
            return Future.<Void>succeededFuture();
        }));
        socket.exceptionHandler(err -> {
            if (isTooBig(err)) {
                // Vert.x only reports a message over the limit and drops it (and Netty's decoder reads nothing more
                // after a frame over it): the client is told with the close code made for it.
                client.close(MESSAGE_TOO_BIG, "message too big: at most " + maxMessageBytes + " bytes");
            } else {
                log.debug("WebSocket of tenant {} failed: {}", tenant, err.toString());
            }
        });
        socket.closeHandler(v -> {
            client.closed = true;
            clients.remove(client);
            metrics.webSockets(-1);
        });
    }

    void publish(JobEvent event) {
        // A delivery that failed must not stop the ones after it.
        delivered = delivered.compose(v -> deliver(event)).recover(err -> {
            log.error("could not deliver event {} of job {}", event.type(), event.id(), err);
            return Future.succeededFuture();
        });
    }

    /** Tells every client the gateway is going away, with a close frame rather than a dropped connection. */
    Future<Void> closeAll() {
        closing = true;
        vertx.cancelTimer(pingTimer);
        List<Future<Void>> closing = new ArrayList<>();
        for (Client client : List.copyOf(clients)) {
            closing.add(client.socket.close(GOING_AWAY, "gateway shutting down"));
        }
        return Future.join(closing).mapEmpty();
    }

    private Future<Void> deliver(JobEvent event) {
        List<Client> audience = clients.stream().filter(c -> c.wants(event)).toList();
        if (audience.isEmpty()) {
            return Future.succeededFuture();
        }
        Future<ImageLinks.ImageLink> link = event.result() == null
                ? Future.succeededFuture()
                : links.linkFor(event.result()).recover(err -> {
                    try (JobLogContext ignored = JobLogContext.of(event.id(), event.tenant())) {
                        log.error("could not presign the image of job {}", event.id(), err);
                    }
                    return Future.succeededFuture();
                });
        return link.map(l -> {
            TextFrame frame = TextFrame.of(PublicJson.event(event, l));
            audience.forEach(c -> c.send(frame));
            return null;
        });
    }

    private void onMessage(Client client, String text) {
        Object message;
        try {
            message = Json.decodeValue(text);
        } catch (DecodeException e) {
            client.sendError(usage("the frame is not JSON"));
            return;
        }
        if (!(message instanceof JsonObject json) || !json.containsKey("subscribe")
                || !SUBSCRIBE_FIELDS.containsAll(json.fieldNames())
                || !(json.getValue("subscribe") instanceof JsonArray ids)
                || !(json.getValue("replay", false) instanceof Boolean replay)) {
            client.sendError(usage("unknown message"));
            return;
        }
        List<JobState> found = new ArrayList<>();
        Set<String> subscribed = client.jobIds == null ? new LinkedHashSet<>() : new LinkedHashSet<>(client.jobIds);
        for (Object value : ids) {
            String id = value instanceof String s ? JobIds.canonical(s) : null;
            if (id == null) {
                client.sendError(ApiError.invalid("each job id must be a UUID string"));
            } else {
                Optional<JobState> job = view.find(id, client.tenant);
                if (job.isEmpty()) {
                    client.sendError(ApiError.noSuchJob(id));
                } else {
                    subscribed.add(id);
                    found.add(job.get());
                }
            }
        }
        if (subscribed.size() > MAX_SUBSCRIPTIONS) {
            client.sendError(ApiError.invalid("at most " + MAX_SUBSCRIPTIONS + " jobs per connection"));
            return;
        }
        client.jobIds = subscribed;
        client.send(new JsonObject().put("type", "subscribed").put("ids", new JsonArray(List.copyOf(subscribed))));
        if (replay) {
            // In line with live events, so a replayed frame never overtakes an earlier live one.
            delivered = delivered.compose(v -> replay(client, found));
        }
    }

    /**
     * Each job's latest event, as the view knows it now, marked "replayed": a client that was away learns what it
     * missed, a completion included. A live event racing with it may arrive as well; clients keep the last state.
     */
    private Future<Void> replay(Client client, List<JobState> jobs) {
        List<Future<JsonObject>> frames = new ArrayList<>();
        for (JobState requested : jobs) {
            JobState job = view.find(requested.id(), client.tenant).orElse(requested);
            JobEvent latest = job.latestEvent();
            Future<ImageLinks.ImageLink> link = latest.result() == null ? Future.succeededFuture()
                    : links.linkFor(latest.result()).recover(err -> Future.succeededFuture());
            frames.add(link.map(l -> PublicJson.event(latest, l).put("replayed", true)));
        }
        return Future.join(frames).<Void>map(all -> {
            frames.forEach(f -> client.send(f.result()));
            return null;
        }).recover(err -> Future.succeededFuture());
    }

    /** A client message over the size limit: Netty's frame decoder or Vert.x's message aggregator says so. */
    private static boolean isTooBig(Throwable err) {
        if (err instanceof CorruptedWebSocketFrameException corrupted) {
            return corrupted.closeStatus().code() == MESSAGE_TOO_BIG;
        }
        return err instanceof IllegalStateException && String.valueOf(err.getMessage()).contains("max message size");
    }

    private static ApiError usage(String problem) {
        return ApiError.invalid(problem + "; send {\"subscribe\": [\"<job id>\", ...], \"replay\": true|false}");
    }
}
