package dev.oneway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The gateway's HTTP API and its /v1/events WebSocket, as one user with one API key sees them. */
final class GatewayClient {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** An answer of the gateway: its status and JSON body. */
    record Reply(int status, JsonNode body) {
        boolean ok() {
            return status >= 200 && status < 300;
        }

        /** "message (code, HTTP status)" from the gateway's error body. */
        String error() {
            JsonNode error = body.path("error");
            if (error.isMissingNode()) {
                return "HTTP " + status;
            }
            return error.path("message").asText() + " (" + error.path("code").asText() + ", HTTP " + status + ")";
        }
    }

    /** A failure to talk to the gateway at all (refused connection, not JSON, ...). */
    static final class GatewayException extends Exception {
        GatewayException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final URI server;
    private final String key;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

    GatewayClient(URI server, String key) {
        this.server = server;
        this.key = key;
    }

    URI server() {
        return server;
    }

    Reply submit(ObjectNode job) throws GatewayException {
        return send(request("/v1/jobs").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(job.toString())).build());
    }

    Reply models() throws GatewayException {
        return send(request("/v1/models").GET().build());
    }

    Reply job(String id) throws GatewayException {
        return send(request("/v1/jobs/" + id).GET().build());
    }

    /** GET /v1/jobs/{id}/image without following the redirect: a failure, or a 302 whose Location is the image. */
    HttpResponse<String> imageLink(String id) throws GatewayException {
        return exchange(request("/v1/jobs/" + id + "/image").GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Downloads a presigned URL; the storage server needs no key, and must not get ours. */
    byte[] download(URI url) throws GatewayException {
        HttpResponse<byte[]> response = exchange(HttpRequest.newBuilder(url).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new GatewayException("downloading " + url.getHost() + " answered HTTP " + response.statusCode(), null);
        }
        return response.body();
    }

    /**
     * Opens /v1/events; every JSON frame lands in {@code frames}. Returns null when the socket cannot be
     * opened (a proxy without WebSockets, say): callers then read the job instead.
     */
    WebSocket events(BlockingQueue<JsonNode> frames) {
        String scheme = server.getScheme().equals("https") ? "wss" : "ws";
        URI uri = URI.create(scheme + "://" + server.getRawAuthority() + "/v1/events");
        try {
            return http.newWebSocketBuilder()
                    .header("Authorization", "Bearer " + key)
                    .connectTimeout(CONNECT_TIMEOUT)
                    .buildAsync(uri, new Frames(frames))
                    .get(CONNECT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(server.resolve(path))
                .header("Authorization", "Bearer " + key)
                .header("Accept", "application/json");
    }

    private Reply send(HttpRequest request) throws GatewayException {
        HttpResponse<String> response = exchange(request, HttpResponse.BodyHandlers.ofString());
        try {
            return new Reply(response.statusCode(), JSON.readTree(response.body().isEmpty() ? "{}" : response.body()));
        } catch (IOException e) {
            throw new GatewayException(request.method() + " " + request.uri() + " answered HTTP " + response.statusCode()
                    + " without JSON; is " + server + " a Oneway gateway?", e);
        }
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> body) throws GatewayException {
        try {
            return http.send(request, body);
        } catch (IOException e) {
            throw new GatewayException("cannot reach " + request.uri().getScheme() + "://" + request.uri().getAuthority()
                    + " (" + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GatewayException("interrupted", e);
        }
    }

    /** Reassembles text frames that arrive in parts, one JSON value per message. */
    private static final class Frames implements WebSocket.Listener {
        private final BlockingQueue<JsonNode> frames;
        private final StringBuilder text = new StringBuilder();

        Frames(BlockingQueue<JsonNode> frames) {
            this.frames = frames;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    frames.add(JSON.readTree(text.toString()));
                } catch (IOException e) {
                    // Not JSON: the gateway never sends such frames; ignore rather than stop listening.
                }
                text.setLength(0);
            }
            socket.request(1);
            return null;
        }
    }
}
