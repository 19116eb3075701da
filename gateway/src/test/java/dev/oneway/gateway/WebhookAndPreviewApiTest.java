package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static dev.oneway.gateway.TestGateway.BETA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.Setting;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The webhook and previews fields of POST /v1/jobs on a gateway as deployed (webhooks to private addresses not
 * allowed, the default), the job.webhook outcome shown by GET, job.preview frames fanned out without changing the
 * job, and the tenant's signing secret.
 */
class WebhookAndPreviewApiTest {

    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = new TestGateway();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static TestGateway.Response post(JsonObject body) {
        return gateway.postJob(ALPHA_KEY, body.put("prompt", "a lighthouse"));
    }

    @Test
    void aWebhookOnALoopbackPrivateOrLinkLocalAddressIsRefusedWithAClear400() {
        for (String url : List.of("http://127.0.0.1:8080/hook", "http://localhost/hook", "https://10.1.2.3/hook",
                "http://192.168.1.20/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]:9000/hook",
                "http://[fd00::1]/hook", "http://100.64.0.1/hook", "http://0.0.0.0/hook")) {
            TestGateway.Response response = post(new JsonObject().put("webhook", url));
            assertEquals(400, response.status(), url + ": " + response.body());
            JsonObject error = response.json().getJsonObject("error");
            assertEquals("invalid_request", error.getString("code"));
            assertTrue(error.getString("message").contains("loopback, private or link-local"), error.getString("message"));
        }
    }

    @Test
    void aWebhookThatIsNotAnHttpUrlIsRefusedNamingTheField() {
        for (String url : List.of("ftp://example.com/hook", "not a url", "http:///nohost", "mailto:ops@example.com",
                "https://user:secret@93.184.216.34/hook", "https://93.184.216.34/hook#part",
                "https://93.184.216.34/" + "a".repeat(2100))) {
            TestGateway.Response response = post(new JsonObject().put("webhook", url));
            assertEquals(400, response.status(), url + ": " + response.body());
            assertTrue(response.json().getJsonObject("error").getString("message").contains("webhook"), response.body());
        }
        assertEquals(400, post(new JsonObject().put("webhook", 42)).status());
        assertEquals(400, post(new JsonObject().put("previews", "yes")).status());
    }

    @Test
    void aPublicWebhookAndPreviewsAreAcceptedKeptOnTheRecordAndShownByGet() {
        String url = "https://93.184.216.34/hooks/oneway?source=test";
        TestGateway.Response response = post(new JsonObject().put("webhook", url).put("previews", true));
        assertEquals(202, response.status(), response.body());
        String id = response.json().getString("id");
        assertEquals(true, response.json().getBoolean("previews"));
        assertEquals(new JsonObject().put("url", url).put("status", "pending"), response.json().getJsonObject("webhook"));

        List<ConsumerRecord<String, String>> records = gateway.readTopic(gateway.jobsTopic(),
                read -> read.stream().anyMatch(r -> r.key().equals(id)));
        JobRequest onTopic = JobRequest.fromJson(new JsonObject(
                records.stream().filter(r -> r.key().equals(id)).findFirst().orElseThrow().value()));
        assertEquals(url, onTopic.webhook());
        assertTrue(onTopic.previews());

        JsonObject plain = post(new JsonObject()).json();
        assertTrue(!plain.containsKey("webhook") && !plain.containsKey("previews"), plain.encode());
    }

    @Test
    void theDeliveryOutcomeIsShownOnTheFinishedJobAndPreviewsReachTheOwnerWithoutChangingIt() {
        String url = "https://93.184.216.34/hook";
        JsonObject accepted = post(new JsonObject().put("webhook", url).put("previews", true)).json();
        String id = accepted.getString("id");
        JobRequest job = JobRequest.fromJson(accepted.copy().put("tenant", "alpha"));
        TestGateway.Socket owner = gateway.connect(ALPHA_KEY);
        owner.send(new JsonObject().put("subscribe", List.of(id)).encode());
        owner.nextSubscribedAck();

        gateway.publishEvent(JobEvent.started(job, 1));
        gateway.publishEvent(JobEvent.preview(job, 1, 2, 8, 8, "iVBORw0KGgo="));
        gateway.publishEvent(JobEvent.preview(job, 2, 2, 8, 8, "iVBORw0KGgo="));
        gateway.publishEvent(JobEvent.failed(job, new ErrorInfo("invalid_job", "too large")).withWebhookOf(job));
        JsonObject outcome = new JsonObject().put("url", url).put("id", "msg_" + id).put("status", "failed")
                .put("attempts", 1).put("lastStatus", 410).put("error", "the receiver answered 410");
        gateway.publishEvent(JobEvent.webhookOutcome(id, "alpha", outcome));

        assertEquals("job.started", owner.nextFor(id).getString("type"));
        JsonObject first = owner.nextFor(id);
        assertEquals("job.preview", first.getString("type"));
        assertEquals(1, first.getJsonObject("preview").getInteger("step"));
        assertEquals(2, owner.nextFor(id).getJsonObject("preview").getInteger("step"));
        JsonObject terminal = owner.nextFor(id);
        assertEquals("job.failed", terminal.getString("type"));
        assertTrue(!terminal.containsKey("webhook") && !terminal.containsKey("tenant"), terminal.encode());
        JsonObject recorded = owner.nextFor(id);
        assertEquals("job.webhook", recorded.getString("type"));
        assertEquals("failed", recorded.getJsonObject("webhook").getString("status"));

        JsonObject shown = gateway.awaitJob(id, ALPHA_KEY, j -> !j.getJsonObject("webhook").getString("status").equals("pending"));
        assertEquals("failed", shown.getString("status"), "the job stays as it ended");
        assertEquals(outcome, shown.getJsonObject("webhook"));
    }

    @Test
    void eachTenantGetsItsOwnWebhookSecretInTheStandardWebhooksForm() {
        TestGateway.Response alpha = gateway.get("/v1/webhook-secret", ALPHA_KEY);
        TestGateway.Response beta = gateway.get("/v1/webhook-secret", BETA_KEY);
        assertEquals(200, alpha.status(), alpha.body());
        String secret = alpha.json().getString("secret");
        assertTrue(secret.matches("whsec_[A-Za-z0-9+/]{43}="), secret);
        assertEquals(secret, gateway.get("/v1/webhook-secret", ALPHA_KEY).json().getString("secret"), "stable");
        assertNotEquals(secret, beta.json().getString("secret"));
        assertEquals(401, gateway.get("/v1/webhook-secret", null).status());
    }
}
