package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.BETA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Thousands of generated malformed requests against a real gateway (deterministic seed): mutated and mistyped JSON,
 * invalid UTF-8, odd methods, paths, headers and job ids, raw bytes that are not HTTP, and bad WebSocket frames.
 * Every request is answered within a deadline, never with a 5xx, every error in the one JSON format, and the gateway
 * still serves afterwards. The same sequence runs over HTTP/1.1 (Vert.x's client) and through the JDK's HttpClient at
 * its default version, HTTP/2, which it asks for with an h2c upgrade on each new connection (the gateway declines it).
 */
class GatewayFuzzTest {

    private static final long SEED = 20_250_601L;
    private static final int HTTP_REQUESTS = 10_000;
    private static final int RAW_REQUESTS = 300;
    private static final int WEBSOCKET_FRAMES = 1_000;
    private static final int IN_FLIGHT = 32;
    /** How many of the sequence the JDK client sends (it is slower: a fresh h2c upgrade after every closed connection). */
    private static final int JDK_REQUESTS = 2_000;
    private static final int JDK_IN_FLIGHT = 16;
    /** No answer within this is a hang, whatever the request was. */
    private static final Duration DEADLINE = Duration.ofSeconds(8);
    private static final String VALID_BODY = "{\"prompt\":\"a lighthouse at dusk\",\"seed\":42,\"width\":512,\"height\":512,"
            + "\"steps\":4,\"sampler\":\"tiue\"}";

    private static final java.util.regex.Pattern UNKNOWN_VERSION = java.util.regex.Pattern.compile("^\\S+ \\S+ HTTP/(?!1\\.[01]\\r)");

    static TestGateway gateway;
    static HttpClient http;
    static NetClient tcp;

    /** One generated request, kept as text so a failure names what was sent. */
    record Probe(HttpMethod method, String uri, Map<String, String> headers, Buffer body) {
        @Override
        public String toString() {
            String shown = body == null ? "" : body.toString(StandardCharsets.ISO_8859_1);
            return method + " " + abbreviate(uri) + " " + headers + " " + abbreviate(shown);
        }
    }

    @BeforeAll
    static void start() {
        gateway = new TestGateway();
        http = gateway.vertx.createHttpClient(new HttpClientOptions().setDefaultHost("localhost").setDefaultPort(gateway.port()),
                new PoolOptions().setHttp1MaxSize(IN_FLIGHT));
        tcp = gateway.vertx.createNetClient();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void tenThousandMalformedRequestsGetNo5xxOnlyJsonErrorsAndTheGatewaySurvives() {
        Random random = new Random(SEED);
        List<Probe> probes = new ArrayList<>();
        for (int i = 0; i < HTTP_REQUESTS; i++) {
            probes.add(probe(random));
        }
        List<String> problems = new ArrayList<>(runAll(probes.size(), IN_FLIGHT, i -> send(probes.get(i))));

        List<byte[]> raw = new ArrayList<>();
        for (int i = 0; i < RAW_REQUESTS; i++) {
            raw.add(rawRequest(random));
        }
        problems.addAll(runAll(raw.size(), 8, i -> sendRaw(raw.get(i))));

        problems.addAll(fuzzWebSockets(random));

        assertEquals(List.of(), problems.subList(0, Math.min(20, problems.size())),
                problems.size() + " of " + (HTTP_REQUESTS + RAW_REQUESTS + WEBSOCKET_FRAMES) + " probes went wrong");

        // Alive and still itself.
        assertEquals(200, gateway.send(HttpMethod.GET, "/health/live", null, Map.of(), null).status());
        assertEquals(200, gateway.send(HttpMethod.GET, "/health/ready", null, Map.of(), null).status());
        TestGateway.Response accepted = gateway.send(HttpMethod.POST, "/v1/jobs", BETA_KEY,
                Map.of("Content-Type", "application/json"), Buffer.buffer("{\"prompt\":\"still here\"}"));
        assertEquals(202, accepted.status(), accepted.body());
        String id = accepted.json().getString("id");
        assertEquals(200, gateway.send(HttpMethod.GET, "/v1/jobs/" + id, BETA_KEY, Map.of(), null).status());
    }

    /**
     * The JDK's HttpClient at its default version (HTTP/2: an h2c upgrade offered on every new connection) gets an
     * answer to every request of the same sequence, and to each of the errors Netty raises before any handler runs
     * (431, 414, 413, 400), each followed by a request that must be served. Before the upgrade was declined, requests
     * after a 431 went unanswered on this client.
     */
    @Test
    void theJdkClientAtItsDefaultVersionGetsAnAnswerToEveryRequest() {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().connectTimeout(DEADLINE).build();
        assertEquals(java.net.http.HttpClient.Version.HTTP_2, client.version(), "the JDK's default, which users get");
        Random random = new Random(SEED);
        List<HttpRequest> requests = new ArrayList<>();
        List<String> shown = new ArrayList<>();
        int unsendable = 0;
        for (int i = 0; i < JDK_REQUESTS; i++) {
            Probe probe = probe(random);
            HttpRequest request = jdkRequest(probe);
            if (request == null) {
                unsendable++; // a URI or header the JDK client refuses to send at all
                continue;
            }
            requests.add(request);
            shown.add(probe.toString());
        }
        assertTrue(unsendable < JDK_REQUESTS / 10, unsendable + " probes the JDK client cannot send");
        List<String> problems = new ArrayList<>(runAll(requests.size(), JDK_IN_FLIGHT,
                i -> sendJdk(client, requests.get(i), shown.get(i), null)));

        // Rejected by the HTTP codec itself, before any route, each followed by a request that must be served.
        String base = "http://localhost:" + gateway.port();
        String ok = "{\"prompt\":\"served after an error\"}";
        HttpRequest valid = jsonPost(base + "/v1/jobs", "Bearer " + ALPHA_KEY, ok);
        Map<Integer, HttpRequest> errors = new java.util.LinkedHashMap<>();
        errors.put(431, jsonPost(base + "/v1/jobs", "Bearer " + "k".repeat(20_000), ok));
        errors.put(414, HttpRequest.newBuilder(URI.create(base + "/v1/jobs?q=" + "z".repeat(10_000)))
                .header("Authorization", "Bearer " + ALPHA_KEY).timeout(DEADLINE).GET().build());
        errors.put(413, jsonPost(base + "/v1/jobs", "Bearer " + ALPHA_KEY, "{\"prompt\":\"" + "y".repeat(8_000) + "\"}"));
        errors.put(400, jsonPost(base + "/v1/jobs", "Bearer " + ALPHA_KEY, "{\"prompt\":"));
        for (int round = 0; round < 3; round++) {
            for (Map.Entry<Integer, HttpRequest> error : errors.entrySet()) {
                problems.addAll(runAll(1, 1, i -> sendJdk(client, error.getValue(), "the " + error.getKey() + " case",
                        error.getKey())));
                problems.addAll(runAll(1, 1, i -> sendJdk(client, valid, "a valid job after a " + error.getKey(), 202)));
            }
        }
        assertEquals(List.of(), problems.subList(0, Math.min(20, problems.size())),
                problems.size() + " of " + (requests.size() + 24) + " JDK client requests went wrong");
    }

    private static HttpRequest jsonPost(String uri, String authorization, String body) {
        return HttpRequest.newBuilder(URI.create(uri)).header("Authorization", authorization)
                .header("Content-Type", "application/json").timeout(DEADLINE)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** The probe as the JDK client sends it; null when the client refuses to (a malformed URI, a restricted header). */
    private static HttpRequest jdkRequest(Probe probe) {
        try {
            HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://localhost:" + gateway.port() + probe.uri()))
                    .timeout(DEADLINE)
                    .method(probe.method().name(), probe.body() == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(probe.body().getBytes()));
            probe.headers().forEach(builder::header);
            return builder.build();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Sends one request; a problem when there is no answer by the deadline, a 5xx, or an error outside the format. */
    private static Future<String> sendJdk(java.net.http.HttpClient client, HttpRequest request, String shown,
                                          Integer expectedStatus) {
        return Future.fromCompletionStage(client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()))
                .map(resp -> {
                    if (expectedStatus != null && resp.statusCode() != expectedStatus) {
                        return "expected " + expectedStatus + " for " + abbreviate(shown) + ", got " + resp.statusCode();
                    }
                    boolean head = request.method().equals("HEAD");
                    return judge(shown + " (JDK client, " + resp.version() + ")", resp.statusCode(),
                            resp.headers().firstValue("Content-Type").orElse(null), head ? null : Buffer.buffer(resp.body()));
                })
                .recover(err -> Future.succeededFuture("no answer within " + DEADLINE.toSeconds() + " s (JDK client) to "
                        + abbreviate(shown) + ": " + err));
    }

    // ---- HTTP requests through the Vert.x client ----

    private static Probe probe(Random r) {
        return switch (r.nextInt(6)) {
            case 0, 1 -> jobPost(r, mutatedJson(r));
            case 2 -> jobPost(r, mistypedJson(r));
            case 3 -> jobPost(r, rawBytes(r));
            case 4 -> new Probe(method(r), path(r), headers(r, false), r.nextBoolean() ? null : rawBytes(r));
            default -> new Probe(HttpMethod.POST, "/v1/jobs", headers(r, true), Buffer.buffer(VALID_BODY));
        };
    }

    private static Probe jobPost(Random r, Buffer body) {
        Map<String, String> headers = new java.util.HashMap<>();
        headers.put("Authorization", "Bearer " + ALPHA_KEY);
        headers.put("Content-Type", r.nextInt(10) == 0 ? pick(r, "text/plain", "application/json; charset=latin-1",
                "application/jsonx", "multipart/form-data", "") : "application/json");
        if (r.nextInt(8) == 0) {
            headers.put("Idempotency-Key", printable(r, r.nextInt(300)));
        }
        return new Probe(HttpMethod.POST, "/v1/jobs", headers, body);
    }

    /** A valid body with a few random byte-level edits: deletions, insertions, swaps, truncation, duplication. */
    static Buffer mutatedJson(Random r) {
        StringBuilder s = new StringBuilder(VALID_BODY);
        int edits = 1 + r.nextInt(4);
        for (int e = 0; e < edits && s.length() > 0; e++) {
            int at = r.nextInt(s.length());
            switch (r.nextInt(5)) {
                case 0 -> s.deleteCharAt(at);
                case 1 -> s.insert(at, (char) (32 + r.nextInt(95)));
                case 2 -> s.setCharAt(at, pick(r, "{", "}", "[", "]", "\"", ",", ":", "\\", "0").charAt(0));
                case 3 -> s.setLength(at);
                default -> s.insert(at, s.substring(at, Math.min(s.length(), at + r.nextInt(20))));
            }
        }
        return Buffer.buffer(s.toString());
    }

    /** Well-formed JSON whose values are of the wrong type or out of range, with unknown fields and deep nesting. */
    static Buffer mistypedJson(Random r) {
        if (r.nextInt(20) == 0) {
            int depth = 500 + r.nextInt(3000);
            return Buffer.buffer("{\"prompt\":" + "[".repeat(depth) + "]".repeat(depth) + "}");
        }
        if (r.nextInt(20) == 0) {
            return Buffer.buffer(pick(r, "[]", "null", "42", "\"prompt\"", "true", "{\"prompt\":\"x\"}{}", "", " "));
        }
        JsonObject body = new JsonObject();
        for (String field : List.of("prompt", "seed", "width", "height", "steps", "sampler")) {
            if (r.nextInt(4) > 0) {
                body.put(field, r.nextBoolean() ? oddValue(r) : new JsonObject(VALID_BODY).getValue(field));
            }
        }
        if (r.nextInt(4) == 0) {
            body.put(printable(r, 1 + r.nextInt(12)), oddValue(r));
        }
        return body.toBuffer();
    }

    private static Object oddValue(Random r) {
        return switch (r.nextInt(14)) {
            case 0 -> null;
            case 1 -> r.nextBoolean();
            case 2 -> r.nextLong();
            case 3 -> Long.MAX_VALUE;
            case 4 -> -1;
            case 5 -> 0;
            case 6 -> r.nextDouble() * 1e6;
            case 7 -> new java.math.BigInteger(200, r);
            case 8 -> "";
            case 9 -> printable(r, r.nextInt(40));
            case 10 -> "x".repeat(2000 + r.nextInt(3000));
            case 11 -> new JsonArray().add(1).add("two");
            case 12 -> new JsonObject().put("nested", r.nextInt());
            default -> "\u0000\uD800\uFFFF" + printable(r, 5);
        };
    }

    /** Bytes that are not valid UTF-8 JSON: random bytes, lone continuation bytes, overlong encodings, oversize. */
    private static Buffer rawBytes(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> {
                byte[] b = new byte[r.nextInt(200)];
                r.nextBytes(b);
                yield Buffer.buffer(b);
            }
            case 1 -> Buffer.buffer("{\"prompt\":\"").appendBytes(new byte[] {(byte) 0xC0, (byte) 0xAF, (byte) 0xFF, (byte) 0x80})
                    .appendString("\"}");
            case 2 -> Buffer.buffer("{\"prompt\":\"" + "y".repeat(4096 + r.nextInt(20_000)) + "\"}");
            default -> Buffer.buffer("{\"prompt\":\"ok\"}").appendBytes(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
        };
    }

    private static HttpMethod method(Random r) {
        return HttpMethod.valueOf(pick(r, "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "BREW",
                "PROPFIND", "X-" + printable(r, 5).replaceAll("[^A-Za-z]", "A")));
    }

    private static String path(Random r) {
        String id = switch (r.nextInt(6)) {
            case 0 -> UUID.randomUUID().toString();
            case 1 -> UUID.randomUUID().toString().toUpperCase();
            case 2 -> printable(r, r.nextInt(60)).replaceAll("[^A-Za-z0-9-]", "-");
            case 3 -> "%00%ff%zz";
            case 4 -> "..%2F..%2Fetc%2Fpasswd";
            default -> "9".repeat(1 + r.nextInt(80));
        };
        return switch (r.nextInt(9)) {
            case 0 -> "/v1/jobs/" + id;
            case 1 -> "/v1/jobs/" + id + "/image";
            case 2 -> "/v1/jobs/" + id + "/" + id;
            case 3 -> "/v1/events?x=" + id;
            case 4 -> "/v1/" + id;
            case 5 -> "/" + "a/".repeat(1 + r.nextInt(3000));
            case 6 -> "/v1/jobs?" + "q=" + "z".repeat(r.nextInt(10_000));
            case 7 -> "//v1//jobs//" + id;
            default -> "/health/" + id;
        };
    }

    private static Map<String, String> headers(Random r, boolean validBody) {
        Map<String, String> h = new java.util.HashMap<>();
        switch (r.nextInt(6)) {
            case 0 -> h.put("Authorization", "Bearer " + printable(r, r.nextInt(100)));
            case 1 -> h.put("Authorization", pick(r, "Bearer", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "bearer " + ALPHA_KEY, "Token x"));
            case 2 -> h.put("Authorization", "Bearer " + "k".repeat(10_000 + r.nextInt(10_000)));
            case 3 -> {
                for (int i = 0; i < 1 + r.nextInt(200); i++) {
                    h.put("X-" + i, printable(r, r.nextInt(100)));
                }
                h.put("Authorization", "Bearer " + ALPHA_KEY);
            }
            case 4 -> h.put("Authorization", "Bearer " + ALPHA_KEY);
            default -> { }
        }
        h.put("Content-Type", validBody ? pick(r, "application/json", "application/json;charset=UTF-16", "text/json",
                "application/json; charset=\"utf-8\"", ";;;", printable(r, 20)) : printable(r, 15));
        if (r.nextBoolean()) {
            h.put("Idempotency-Key", pick(r, "", " ", printable(r, 300), "ok-" + r.nextInt(100)));
        }
        if (r.nextInt(10) == 0) {
            h.put("Accept-Encoding", "gzip, " + printable(r, 30));
        }
        return h;
    }

    private Future<String> send(Probe probe) {
        RequestOptions options = new RequestOptions().setMethod(probe.method()).setURI(probe.uri())
                .setIdleTimeout(DEADLINE.toMillis()); // silence this long fails the request: a hang is a problem too
        probe.headers().forEach(options::putHeader);
        return http.request(options)
                .compose(req -> probe.body() == null ? req.send() : req.send(probe.body()))
                .compose(resp -> resp.body().map(body -> judge(probe.toString(), resp.statusCode(),
                        resp.getHeader("Content-Type"), probe.method() == HttpMethod.HEAD ? null : body)))
                .recover(err -> Future.succeededFuture("no answer to " + probe + ": " + err));
    }

    /** Null when the answer keeps the rules; else what is wrong with it. */
    static String judge(String request, int status, String contentType, Buffer body) {
        if (status >= 500) {
            return status + " for " + request + ": " + (body == null ? "" : abbreviate(body.toString()));
        }
        if (body == null || status < 400) {
            return null;
        }
        if (contentType == null || !contentType.startsWith("application/json")) {
            return "a " + status + " that is not JSON (" + contentType + ") for " + request;
        }
        try {
            JsonObject error = new JsonObject(body).getJsonObject("error");
            if (error == null || !(error.getValue("code") instanceof String) || !(error.getValue("message") instanceof String)) {
                return "a " + status + " without the error format for " + request + ": " + abbreviate(body.toString());
            }
        } catch (RuntimeException e) {
            return "a " + status + " whose body is not JSON for " + request + ": " + abbreviate(body.toString());
        }
        return null;
    }

    // ---- bytes on a plain TCP connection: not even HTTP ----

    private static byte[] rawRequest(Random r) {
        String text = switch (r.nextInt(6)) {
            case 0 -> "GARBAGE\r\n\r\n";
            case 1 -> "GET /v1/jobs HTTP/9.9\r\nHost: x\r\n\r\n";
            case 2 -> "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n";
            case 3 -> "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n";
            case 4 -> "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + ALPHA_KEY + "\r\n\r\nZZ\r\nnot a chunk\r\n\r\n";
            default -> null;
        };
        if (text != null) {
            return text.getBytes(StandardCharsets.ISO_8859_1);
        }
        byte[] b = new byte[1 + r.nextInt(300)];
        r.nextBytes(b);
        b[b.length - 1] = '\n';
        return b;
    }

    /** Sends the bytes, half-closes nothing, and reads until the server closes; the answer must still keep the rules. */
    private Future<String> sendRaw(byte[] request) {
        String shown = abbreviate(new String(request, StandardCharsets.ISO_8859_1));
        Promise<String> verdict = Promise.promise();
        tcp.connect(gateway.port(), "localhost").onFailure(e -> verdict.tryComplete("no connection: " + e)).onSuccess(socket -> {
            Buffer received = Buffer.buffer();
            socket.handler(received::appendBuffer);
            socket.closeHandler(v -> verdict.tryComplete(judgeRaw(shown, received)));
            socket.write(Buffer.buffer(request));
            // A request the server is still waiting to complete is not an error: give up on it after a while.
            gateway.vertx.setTimer(5000, t -> {
                verdict.tryComplete(judgeRaw(shown, received));
                socket.close();
            });
        });
        return verdict.future();
    }

    private static String judgeRaw(String request, Buffer received) {
        String text = received.toString(StandardCharsets.ISO_8859_1);
        if (text.isEmpty()) {
            return null; // the server dropped the connection without an answer (or is still waiting for more)
        }
        int headEnd = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/") || headEnd < 0) {
            return "not an HTTP answer to " + request + ": " + abbreviate(text);
        }
        String[] lines = text.substring(0, headEnd).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        if (status == 501 && UNKNOWN_VERSION.matcher(request).find()) {
            // The one answer Oneway cannot shape: Vert.x refuses a request line with an HTTP version other than
            // 1.0/1.1 with an empty 501 before any handler runs (Http1xServerRequestHandler). Known and allowed.
            return null;
        }
        String contentType = null;
        for (String line : lines) {
            if (line.toLowerCase().startsWith("content-type:")) {
                contentType = line.substring(13).trim();
            }
        }
        String body = text.substring(headEnd + 4);
        int nextResponse = body.indexOf("HTTP/1.");
        if (nextResponse > 0) {
            body = body.substring(0, nextResponse);
        }
        return judge(request, status, contentType, Buffer.buffer(body));
    }

    // ---- WebSocket frames ----

    /**
     * Bad frames, a hundred per connection: after each batch a ping, whose pong comes only after the server handled
     * every earlier frame, so all its answers are in when they are checked. An oversized message may be ignored or
     * end the connection; then the next batch opens a new one.
     */
    private List<String> fuzzWebSockets(Random r) {
        List<String> problems = new ArrayList<>();
        int sent = 0;
        while (sent < WEBSOCKET_FRAMES) {
            ConcurrentLinkedQueue<String> received = new ConcurrentLinkedQueue<>();
            Promise<Void> closed = Promise.promise();
            Promise<Void> pong = Promise.promise();
            WebSocket ws = TestGateway.await(gateway.openSocket("/v1/events", "Bearer " + ALPHA_KEY).onSuccess(socket -> {
                socket.textMessageHandler(received::add);
                socket.binaryMessageHandler(b -> received.add("BINARY FROM SERVER"));
                socket.pongHandler(b -> pong.tryComplete());
                socket.closeHandler(v -> closed.tryComplete());
            }));
            for (int i = 0; i < 100 && sent < WEBSOCKET_FRAMES && !closed.future().isComplete(); i++) {
                boolean huge = r.nextInt(100) == 0;
                try {
                    TestGateway.await(gateway.onClientContext(() -> huge
                            ? ws.writeTextMessage("[" + "1,".repeat(70_000) + "1]")
                            : frame(ws, r)));
                } catch (IllegalStateException e) {
                    break; // the server closed the connection
                }
                sent++;
            }
            if (!closed.future().isComplete()) {
                try {
                    TestGateway.await(gateway.onClientContext(() -> ws.writePing(Buffer.buffer("sync"))));
                } catch (IllegalStateException e) {
                    // closed meanwhile
                }
                TestGateway.await(Future.any(pong.future(), closed.future()));
            }
            for (String text : received) {
                try {
                    JsonObject frame = new JsonObject(text);
                    boolean isError = frame.getJsonObject("error") != null
                            && frame.getJsonObject("error").getValue("code") instanceof String
                            && frame.getJsonObject("error").getValue("message") instanceof String;
                    if (!isError && !"subscribed".equals(frame.getString("type"))) {
                        problems.add("unexpected WebSocket frame: " + abbreviate(text));
                    }
                } catch (RuntimeException e) {
                    problems.add("a WebSocket frame that is not JSON: " + abbreviate(text));
                }
            }
            if (!closed.future().isComplete()) {
                TestGateway.await(gateway.onClientContext(ws::close));
            }
        }
        return problems;
    }

    private static Future<Void> frame(WebSocket ws, Random r) {
        return switch (r.nextInt(7)) {
            case 0 -> {
                byte[] b = new byte[r.nextInt(100)];
                r.nextBytes(b);
                yield ws.writeBinaryMessage(Buffer.buffer(b));
            }
            case 1 -> ws.writeTextMessage(printable(r, r.nextInt(200)));
            case 2 -> ws.writeTextMessage(mutatedJson(r).toString());
            case 3 -> ws.writeTextMessage(new JsonObject().put("subscribe", oddValue(r)).encode());
            case 4 -> ws.writeTextMessage(new JsonObject().put("subscribe", new JsonArray().add(UUID.randomUUID().toString())
                    .add(printable(r, 10)).add(r.nextInt())).put("replay", oddValue(r)).encode());
            case 5 -> ws.writeTextMessage(new JsonObject().put(printable(r, 8), oddValue(r)).encode());
            default -> ws.writeTextMessage(pick(r, "null", "[]", "\"subscribe\"", "{}", "{\"subscribe\":[]}", ""));
        };
    }

    // ---- helpers ----

    /** Runs {@code count} probes with at most {@code window} in flight; returns what went wrong. */
    private static List<String> runAll(int count, int window, java.util.function.IntFunction<Future<String>> probe) {
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicInteger next = new AtomicInteger();
        Promise<Void> done = Promise.promise();
        AtomicInteger running = new AtomicInteger(window);
        Supplier<Future<Void>> start = () -> {
            for (int w = 0; w < window; w++) {
                pump(next, count, probe, problems, running, done);
            }
            return done.future();
        };
        try {
            gateway.onClientContext(start).toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException("the probes did not complete; " + next.get() + " started, problems so far: "
                    + problems.stream().limit(10).toList(), e);
        }
        return new ArrayList<>(problems);
    }

    private static void pump(AtomicInteger next, int count, java.util.function.IntFunction<Future<String>> probe,
                             ConcurrentLinkedQueue<String> problems, AtomicInteger running, Promise<Void> done) {
        int i = next.getAndIncrement();
        if (i >= count) {
            if (running.decrementAndGet() == 0) {
                done.tryComplete();
            }
            return;
        }
        probe.apply(i).onComplete(ar -> {
            if (ar.failed()) {
                problems.add("probe " + i + " failed: " + ar.cause());
            } else if (ar.result() != null) {
                problems.add(ar.result());
            }
            pump(next, count, probe, problems, running, done);
        });
    }

    private static String printable(Random r, int length) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append((char) (33 + r.nextInt(94)));
        }
        return s.toString();
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... options) {
        return options[r.nextInt(options.length)];
    }

    private static String abbreviate(String s) {
        return s.length() <= 160 ? s : s.substring(0, 160) + "...(" + s.length() + " chars)";
    }
}
