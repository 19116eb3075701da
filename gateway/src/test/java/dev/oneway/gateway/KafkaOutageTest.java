package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.oneway.common.Setting;
import dev.oneway.embedded.EmbeddedKafka;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No 202 without a durable record: when Kafka does not acknowledge in time the answer is 503. */
class KafkaOutageTest {

    @TempDir
    Path dataDir;

    @Test
    void withoutABrokerASubmissionIs503AndTheGatewayRecoversWhenTheBrokerReturns() {
        try (EmbeddedKafka kafka = new EmbeddedKafka(dataDir).start();
             TestGateway gateway = new TestGateway(Map.of(
                     Setting.KAFKA_BOOTSTRAP, kafka.bootstrapServers(),
                     Setting.KAFKA_ACK_TIMEOUT_MS, 1500))) {
            String before = gateway.submit(ALPHA_KEY, "accepted before the outage");

            kafka.stop();
            TestGateway.Response refused = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "during the outage"));

            assertEquals(503, refused.status(), refused.body());
            assertEquals("kafka_unavailable", refused.errorCode());
            assertEquals("5", refused.headers().get("Retry-After"));
            TestGateway.Response ready = gateway.get("/health/ready", null);
            assertEquals(503, ready.status());
            assertEquals("down", ready.json().getJsonObject("checks").getString("kafka"));
            assertEquals(200, gateway.get("/health/live", null).status());
            assertEquals("queued", gateway.get("/v1/jobs/" + before, ALPHA_KEY).json().getString("status"),
                    "accepted jobs are still answered from the view");
            TestGateway.Response unknown = gateway.get("/v1/jobs/" + java.util.UUID.randomUUID(), ALPHA_KEY);
            assertEquals(503, unknown.status(), "while the log cannot be read an unknown id may be an accepted job "
                    + "not read yet: not a 404 " + unknown.body());
            assertEquals("kafka_unavailable", unknown.errorCode());

            kafka.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            int status;
            do {
                status = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "after the outage")).status();
            } while (status != 202 && System.nanoTime() < deadline);
            assertEquals(202, status, "the gateway reconnects by itself");
        }
    }
}
