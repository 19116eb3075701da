package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.oneway.common.Setting;
import dev.oneway.standalone.OnewayClient.EventSocket;
import dev.oneway.standalone.OnewayClient.Reply;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The production shape: gateway and worker against a real Kafka broker and a real MinIO server in containers
 * (the images docker-compose.yml uses). Skipped where no Docker engine runs.
 */
@Testcontainers(disabledWithoutDocker = true)
class ExternalInfrastructureTest {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:3.9.1");

    @Container
    static final MinIOContainer MINIO = new MinIOContainer("minio/minio:RELEASE.2024-12-18T13-15-44Z");

    @TempDir
    Path dataDir;

    @Test
    void aJobRunsEndToEndAgainstKafkaAndMinioContainers() throws Exception {
        try (OnewaySystem system = OnewaySystem.builder()
                .dataDir(dataDir)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.API_KEYS, "alpha:key-alpha")
                .externalKafka(KAFKA.getBootstrapServers())
                .externalS3(MINIO.getS3URL())
                .set(Setting.S3_ACCESS_KEY, MINIO.getUserName())
                .set(Setting.S3_SECRET_KEY, MINIO.getPassword())
                .start();
             OnewayClient client = new OnewayClient(system.vertx(), system.httpPort());
             EventSocket events = client.events("key-alpha")) {
            int side = system.modelDefaults().width();
            Reply accepted = client.submit("key-alpha", new JsonObject().put("prompt", "a harbour at night").put("seed", 7)
                    .put("width", side).put("height", side));
            assertEquals(202, accepted.status(), accepted.body().toString());
            String id = accepted.json().getString("id");

            JsonObject job = client.awaitFinished("key-alpha", id);
            assertEquals("succeeded", job.getString("status"), job.encode());
            Reply png = client.download(job.getJsonObject("result").getString("url"));
            assertEquals(200, png.status());
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png.body().getBytes()));
            assertNotNull(image);
            assertEquals(side, image.getWidth());

            events.awaitUntil("the job succeed", s -> s.lifecycleOf(id).contains("job.succeeded"));
            assertEquals(List.of("job.queued", "job.started", "job.succeeded"), events.lifecycleOf(id));

            system.restartGateway();
            assertEquals("succeeded", client.get("key-alpha", "/v1/jobs/" + id).json().getString("status"));
        }
    }
}
