package dev.oneway.standalone.faults;

import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.imageio.ImageIO;

/** The HTTP side of a user of Oneway (the JDK's own client): what came back, or -1 when nothing did. */
final class UserHttp implements AutoCloseable {

    /** What a request got: a status (-1: no answer, a timeout or a broken connection) and a body. */
    record Answer(int status, String body, String location, boolean replayed) {
        JsonObject json() {
            try {
                return body == null || body.isEmpty() ? new JsonObject() : new JsonObject(body);
            } catch (RuntimeException e) {
                return new JsonObject();
            }
        }

        String errorCode() {
            JsonObject error = json().getJsonObject("error");
            return error == null ? null : error.getString("code");
        }

        boolean retriable() {
            return status < 0 || status >= 500 || status == 429;
        }
    }

    private final Deployment deployment;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "faults-http");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http;
    private final Duration timeout;

    UserHttp(Deployment deployment, Duration timeout) {
        this.deployment = deployment;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
                .connectTimeout(Duration.ofSeconds(2)).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    Answer post(int gateway, String apiKey, String idempotencyKey, JsonObject body) {
        HttpRequest.Builder request = request(gateway, apiKey, "/v1/jobs")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode()));
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        return send(request.build());
    }

    Answer get(int gateway, String apiKey, String id) {
        return send(request(gateway, apiKey, "/v1/jobs/" + id).GET().build());
    }

    Answer delete(int gateway, String apiKey, String id) {
        return send(request(gateway, apiKey, "/v1/jobs/" + id).DELETE().build());
    }

    /** GET /v1/jobs/{id}/image, then the presigned URL it redirects to; null when the PNG decodes, else why not. */
    String imageProblem(int gateway, String apiKey, String id, int width, int height) {
        Answer redirect = send(request(gateway, apiKey, "/v1/jobs/" + id + "/image").GET().build());
        if (redirect.status() != 302 || redirect.location() == null) {
            return "GET /image on " + Deployment.gatewayName(gateway) + " answered " + redirect.status() + " " + redirect.body();
        }
        try {
            HttpResponse<byte[]> png = download(redirect.location());
            if (png.statusCode() != 200) {
                return "the presigned URL answered " + png.statusCode();
            }
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png.body()));
            if (image == null) {
                return "the object is not a PNG (" + png.body().length + " bytes)";
            }
            if (image.getWidth() != width || image.getHeight() != height) {
                return "the PNG is " + image.getWidth() + "x" + image.getHeight() + ", not " + width + "x" + height;
            }
            return null;
        } catch (IOException e) {
            return "downloading the image failed: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * One GET of a presigned URL, tried a second time when the connection breaks before an answer: a keep-alive
     * connection pooled before the S3 server restarted is dead, and any user's client would simply ask again.
     */
    private HttpResponse<byte[]> download(String url) throws IOException, InterruptedException {
        HttpRequest get = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
        try {
            return http.send(get, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException stale) {
            return http.send(get, HttpResponse.BodyHandlers.ofByteArray());
        }
    }

    HttpClient client() {
        return http;
    }

    private HttpRequest.Builder request(int gateway, String apiKey, String path) {
        return HttpRequest.newBuilder(URI.create(deployment.gatewayUrl(gateway) + path)).timeout(timeout)
                .header("Authorization", "Bearer " + apiKey);
    }

    private Answer send(HttpRequest request) {
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body(), r.headers().firstValue("Location").orElse(null),
                    r.headers().firstValue("Idempotent-Replayed").isPresent());
        } catch (IOException e) {
            return new Answer(-1, e.toString(), null, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(-1, "interrupted", null, false);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
