package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AuthenticationTest {

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
    void everyJobEndpointAnswers401WithoutAValidKey() {
        String job = "/v1/jobs/" + UUID.randomUUID();
        for (String key : new String[] {null, "wrong-key", ALPHA_KEY + "x", ""}) {
            assertUnauthorized(gateway.send(HttpMethod.POST, "/v1/jobs", key, Map.of("Content-Type", "application/json"),
                    Buffer.buffer("{\"prompt\": \"a cat\"}")));
            assertUnauthorized(gateway.get(job, key));
            assertUnauthorized(gateway.get(job + "/image", key));
            assertUnauthorized(gateway.delete(job, key));
        }
    }

    @Test
    void aKeyMustComeAsABearerToken() {
        assertUnauthorized(gateway.send(HttpMethod.GET, "/v1/jobs/" + UUID.randomUUID(), null,
                Map.of("Authorization", "Basic " + ALPHA_KEY), null));
    }

    @Test
    void theWebSocketRejectsAMissingOrWrongKeyBeforeTheUpgrade() {
        for (String authorization : new String[] {null, "Bearer wrong-key"}) {
            Exception failure = assertThrows(IllegalStateException.class,
                    () -> TestGateway.await(gateway.openSocket("/v1/events", authorization)));
            UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, failure.getCause());
            assertEquals(401, rejected.getStatus());
        }
        Exception failure = assertThrows(IllegalStateException.class,
                () -> TestGateway.await(gateway.openSocket("/v1/events?access_token=wrong-key", null)));
        assertEquals(401, ((UpgradeRejectedException) failure.getCause()).getStatus());
    }

    @Test
    void theWebSocketAcceptsTheKeyAsHeaderOrAsAccessTokenParameter() {
        TestGateway.await(gateway.openSocket("/v1/events", "Bearer " + ALPHA_KEY)).close();
        TestGateway.await(gateway.openSocket("/v1/events?access_token=" + ALPHA_KEY, null)).close();
    }

    private static void assertUnauthorized(TestGateway.Response response) {
        assertEquals(401, response.status(), response.body());
        assertEquals("unauthorized", response.errorCode());
        assertEquals("Bearer", response.headers().get("WWW-Authenticate"));
    }
}
