package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.workerCopy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.ImageResult;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.Topics;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GET /v1/jobs/{id} reflects what workers publish on the events topic. */
class JobViewTest {

    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = new TestGateway();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void aJobShowsItsProgressAndFinallyAFreshlyPresignedImage() throws Exception {
        String id = gateway.submit(ALPHA_KEY, "a lighthouse at dusk");
        JobRequest job = workerCopy(id, "alpha");

        gateway.publishEvent(JobEvent.started(job, 2));
        JsonObject running = gateway.awaitJob(id, ALPHA_KEY, j -> j.getString("status").equals("running"));
        assertNotNull(running.getString("startedAt"));
        assertEquals(2, running.getInteger("batchSize"));
        TestGateway.Response notReady = gateway.get("/v1/jobs/" + id + "/image", ALPHA_KEY);
        assertEquals(409, notReady.status());
        assertEquals("not_ready", notReady.errorCode());

        byte[] png = png(64, 48);
        String objectKey = Topics.imageObjectKey("alpha", id);
        gateway.infra.putImage(objectKey, png);
        ImageResult image = new ImageResult(SharedInfrastructure.BUCKET, objectKey, "image/png", 64, 48, png.length);
        gateway.publishEvent(JobEvent.succeeded(job, 2, new JsonObject().put("totalMs", 812), image));

        JsonObject succeeded = gateway.awaitJob(id, ALPHA_KEY, j -> j.getString("status").equals("succeeded"));
        assertNotNull(succeeded.getString("finishedAt"));
        assertEquals(812, succeeded.getJsonObject("timings").getInteger("totalMs"));
        JsonObject result = succeeded.getJsonObject("result");
        assertEquals("image/png", result.getString("contentType"));
        assertEquals(64, result.getInteger("width"));
        assertEquals(48, result.getInteger("height"));
        assertEquals(png.length, result.getLong("bytes"));
        assertFalse(result.containsKey("bucket") || result.containsKey("objectKey"), "storage details stay internal");
        assertNotNull(Instant.parse(result.getString("expiresAt")));
        assertArrayEquals(png, gateway.download(result.getString("url")).getBytes());

        TestGateway.Response redirect = gateway.get("/v1/jobs/" + id + "/image", ALPHA_KEY);
        assertEquals(302, redirect.status());
        assertArrayEquals(png, gateway.download(redirect.headers().get("Location")).getBytes());
    }

    @Test
    void aWorkersReleaseOfARunIsNoStateAndNotAnErrorEvenForAJobTheGatewayNeverSaw() {
        String id = gateway.submit(ALPHA_KEY, "a windmill");
        JobRequest job = workerCopy(id, "alpha");
        JobRequest unknown = workerCopy(java.util.UUID.randomUUID().toString(), "alpha");
        gateway.publishEvent(JobEvent.released(unknown));
        gateway.publishEvent(JobEvent.started(job, 1));
        gateway.publishEvent(JobEvent.released(job)); // its partition moved; the next owner runs it again
        gateway.publishEvent(JobEvent.retrying(job, 1, 1));
        gateway.publishEvent(JobEvent.failed(job, new ErrorInfo("engine_error", "out of memory")));
        JsonObject failed = gateway.awaitJob(id, ALPHA_KEY, j -> j.getString("status").equals("failed"));
        assertEquals("engine_error", failed.getJsonObject("error").getString("code"));
        assertEquals(404, gateway.get("/v1/jobs/" + unknown.id(), ALPHA_KEY).status());
    }

    @Test
    void aLateEventNeverMovesAFinishedJobBack() {
        String id = gateway.submit(ALPHA_KEY, "a teapot");
        JobRequest job = workerCopy(id, "alpha");
        gateway.publishEvent(JobEvent.started(job, 1));
        gateway.publishEvent(JobEvent.failed(job, new ErrorInfo("engine_error", "out of memory")));
        gateway.publishEvent(JobEvent.progress(job, "decoder", 3, 4));
        gateway.publishEvent(JobEvent.started(job, 1));
        String marker = gateway.submit(ALPHA_KEY, "submitted after the late events");
        gateway.awaitJob(marker, ALPHA_KEY, j -> true);
        gateway.publishEvent(JobEvent.started(workerCopy(marker, "alpha"), 1));
        gateway.awaitJob(marker, ALPHA_KEY, j -> j.getString("status").equals("running"));

        JsonObject failed = gateway.get("/v1/jobs/" + id, ALPHA_KEY).json();

        assertEquals("failed", failed.getString("status"));
        assertEquals(new JsonObject().put("code", "engine_error").put("message", "out of memory"), failed.getJsonObject("error"));
        assertFalse(failed.containsKey("progress"));
    }

    @Test
    void aFailedJobHasNoImage() {
        String id = gateway.submit(ALPHA_KEY, "a kettle");
        gateway.publishEvent(JobEvent.failed(workerCopy(id, "alpha"), new ErrorInfo("engine_error", "NaN in decoder")));
        gateway.awaitJob(id, ALPHA_KEY, j -> j.getString("status").equals("failed"));

        TestGateway.Response image = gateway.get("/v1/jobs/" + id + "/image", ALPHA_KEY);

        assertEquals(404, image.status());
        assertEquals("not_found", image.errorCode());
    }

    static byte[] png(int width, int height) throws Exception {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        image.setRGB(1, 1, 0xff8800);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }
}
