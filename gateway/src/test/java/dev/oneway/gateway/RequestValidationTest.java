package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every malformed request gets the JSON error format with the right status and a message naming the problem. */
class RequestValidationTest {

    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = new TestGateway();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static Stream<Arguments> invalidBodies() {
        return Stream.of(
                Arguments.of("{}", "prompt is required"),
                Arguments.of("{\"prompt\": null}", "prompt is required"),
                Arguments.of("{\"prompt\": 5}", "prompt must be a string"),
                Arguments.of("{\"prompt\": \"  \"}", "prompt must not be blank"),
                Arguments.of("{\"prompt\": \"" + "x".repeat(2001) + "\"}", "prompt must be at most 2000 characters"),
                Arguments.of("{\"prompt\": \"a\\u0000b\"}", "prompt must not contain control characters"),
                Arguments.of("{\"prompt\": \"a cat\", \"width\": \"512\"}", "width must be an integer"),
                Arguments.of("{\"prompt\": \"a cat\", \"width\": 500}", "width must be a multiple of 64 from 64 to 1024, got 500"),
                Arguments.of("{\"prompt\": \"a cat\", \"height\": 2048}", "height must be a multiple of 64 from 64 to 1024, got 2048"),
                Arguments.of("{\"prompt\": \"a cat\", \"height\": 512.5}", "height must be an integer"),
                Arguments.of("{\"prompt\": \"a cat\", \"steps\": 0}", "steps must be from 1 to 50, got 0"),
                Arguments.of("{\"prompt\": \"a cat\", \"steps\": true}", "steps must be an integer"),
                Arguments.of("{\"prompt\": \"a cat\", \"seed\": -1}", "seed must be from 0 to 9007199254740991, got -1"),
                Arguments.of("{\"prompt\": \"a cat\", \"seed\": 123456789012345678901234567890}", "seed must be from 0"),
                Arguments.of("{\"prompt\": \"a cat\", \"sampler\": \"euler\"}", "sampler must be one of tiue, looped"),
                Arguments.of("{\"prompt\": \"a cat\", \"decoder\": \"jpeg\"}", "decoder must be one of vae, taesd"),
                Arguments.of("{\"prompt\": \"a cat\", \"negative_prompt\": \"dogs\"}", "unknown field 'negative_prompt'"),
                Arguments.of("{\"prompt\": \"a cat\"", "the body is not valid JSON"),
                Arguments.of("{\"prompt\": \"a cat\"} trailing", "the body is not valid JSON"),
                Arguments.of("[\"a cat\"]", "the body must be a JSON object"),
                Arguments.of("", "the body must be a JSON object"));
    }

    @ParameterizedTest
    @MethodSource("invalidBodies")
    void anInvalidBodyIsA400NamingTheProblem(String body, String expectedMessage) {
        TestGateway.Response response = post(Buffer.buffer(body), "application/json");

        assertError(response, 400, "invalid_request");
        assertTrue(response.errorMessage().startsWith(expectedMessage), response.errorMessage());
    }

    @Test
    void invalidUtf8IsA400() {
        byte[] body = {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};

        assertError(post(Buffer.buffer(body), "application/json"), 400, "invalid_request");
    }

    @Test
    void aBodyThatIsNotJsonIs415() {
        assertError(post(Buffer.buffer("prompt=a cat"), "application/x-www-form-urlencoded"), 415, "unsupported_media_type");
        assertError(post(Buffer.buffer("{\"prompt\": \"a cat\"}"), "text/plain"), 415, "unsupported_media_type");
        assertError(post(Buffer.buffer("{\"prompt\": \"a cat\"}"), "application/json; charset=latin1"), 415,
                "unsupported_media_type");
        assertError(post(Buffer.buffer("{\"prompt\": \"a cat\"}"), null), 415, "unsupported_media_type");
    }

    @Test
    void jsonWithACharsetParameterIsAccepted() {
        assertEquals(202, post(Buffer.buffer("{\"prompt\": \"a cat\"}"), "application/json; charset=UTF-8").status());
    }

    @Test
    void aBodyOverTheLimitIs413() {
        String body = new JsonObject().put("prompt", "x".repeat(5000)).encode();

        assertError(post(Buffer.buffer(body), "application/json"), 413, "body_too_large");
    }

    @Test
    void anUnsupportedMethodIs405() {
        TestGateway.Response response = gateway.send(HttpMethod.PUT, "/v1/jobs", ALPHA_KEY,
                Map.of("Content-Type", "application/json"), Buffer.buffer("{}"));

        assertError(response, 405, "method_not_allowed");
    }

    @Test
    void anUnknownPathIs404() {
        assertError(gateway.get("/v2/anything", ALPHA_KEY), 404, "not_found");
    }

    @Test
    void oversizedHeadersAre431() {
        TestGateway.Response response = gateway.send(HttpMethod.GET, "/health/live", null,
                Map.of("X-Padding", "x".repeat(20_000)), null);

        assertError(response, 431, "headers_too_large");
    }

    @Test
    void anInvalidIdempotencyKeyIsA400() {
        TestGateway.Response response = gateway.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a cat"),
                Map.of("Idempotency-Key", "x".repeat(300)));

        assertError(response, 400, "invalid_request");
        assertTrue(response.errorMessage().startsWith("Idempotency-Key"), response.errorMessage());
    }

    private static TestGateway.Response post(Buffer body, String contentType) {
        return gateway.send(HttpMethod.POST, "/v1/jobs", ALPHA_KEY,
                contentType == null ? Map.of() : Map.of("Content-Type", contentType), body);
    }

    private static void assertError(TestGateway.Response response, int status, String code) {
        assertEquals(status, response.status(), response.body());
        assertTrue(response.headers().get("Content-Type").startsWith("application/json"), response.headers().get("Content-Type"));
        assertEquals(code, response.errorCode(), response.body());
    }
}
