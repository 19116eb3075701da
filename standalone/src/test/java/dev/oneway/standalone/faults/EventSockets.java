package dev.oneway.standalone.faults;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One WebSocket per tenant on each gateway, kept open as a user's browser would: when a gateway goes away the socket
 * is opened again once it answers. Every job frame is kept, so terminal frames can be compared with GET and the topic.
 */
final class EventSockets implements AutoCloseable {

    static final Set<String> TERMINAL = Set.of("job.succeeded", "job.failed", "job.canceled");

    /** A frame as received: which socket, when, the job id and the event type. */
    record Frame(String socket, long receivedAtMs, String id, String type) { }

    private final Deployment deployment;
    private final HttpClient http;
    private final List<Frame> frames = new ArrayList<>();
    private final List<Socket> sockets = new ArrayList<>();
    private final Thread keeper;
    private volatile boolean closed;

    EventSockets(Deployment deployment, HttpClient http) {
        this.deployment = deployment;
        this.http = http;
        for (int gateway = 0; gateway < 2; gateway++) {
            for (String apiKey : Deployment.TENANTS.keySet()) {
                sockets.add(new Socket(gateway, apiKey));
            }
        }
        sockets.forEach(Socket::open);
        keeper = new Thread(this::keepOpen, "faults-websockets");
        keeper.setDaemon(true);
        keeper.start();
    }

    /** Terminal frame types of one job per socket name. */
    Map<String, List<String>> terminalFrames(String id) {
        Map<String, List<String>> bySocket = new HashMap<>();
        synchronized (frames) {
            for (Frame f : frames) {
                if (id.equals(f.id()) && TERMINAL.contains(f.type())) {
                    bySocket.computeIfAbsent(f.socket(), k -> new ArrayList<>()).add(f.type());
                }
            }
        }
        return bySocket;
    }

    /** Terminal frames for jobs none of {@code known} is. */
    List<Frame> allFrames() {
        synchronized (frames) {
            return List.copyOf(frames);
        }
    }

    int reconnects() {
        return sockets.stream().mapToInt(s -> s.opens - 1).sum();
    }

    private void keepOpen() {
        while (!closed) {
            for (Socket s : sockets) {
                if (s.socket == null && !closed) {
                    s.open();
                }
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        keeper.interrupt();
        for (Socket s : sockets) {
            WebSocket ws = s.socket;
            if (ws != null) {
                ws.abort();
            }
        }
    }

    private final class Socket implements WebSocket.Listener {
        final int gateway;
        final String apiKey;
        final String name;
        volatile WebSocket socket;
        int opens;
        private final StringBuilder partial = new StringBuilder();

        Socket(int gateway, String apiKey) {
            this.gateway = gateway;
            this.apiKey = apiKey;
            this.name = Deployment.gatewayName(gateway) + "/" + Deployment.TENANTS.get(apiKey);
        }

        void open() {
            try {
                socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(2))
                        .header("Authorization", "Bearer " + apiKey)
                        .buildAsync(URI.create(deployment.gatewayUrl(gateway).replace("http:", "ws:") + "/v1/events"), this)
                        .get(5, TimeUnit.SECONDS);
                opens++;
            } catch (Exception e) {
                socket = null;
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    JsonObject json = new JsonObject(text);
                    if (json.getString("id") != null && json.getString("type") != null) {
                        synchronized (frames) {
                            frames.add(new Frame(name, System.currentTimeMillis(), json.getString("id"), json.getString("type")));
                        }
                    }
                } catch (RuntimeException e) {
                    // not a job frame
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            socket = null;
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            socket = null;
        }
    }
}
