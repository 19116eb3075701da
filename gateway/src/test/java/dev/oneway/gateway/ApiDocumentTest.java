package dev.oneway.gateway;

import static dev.oneway.gateway.TestGateway.ALPHA_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.oneway.common.Setting;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.OpenAPIVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** GET /openapi.yaml describes exactly the routes the gateway serves, with the limits it enforces. */
class ApiDocumentTest {

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
    void theDocumentIsServedWithoutAKeyAndIsAValidOpenApi3Contract() {
        TestGateway.Response response = gateway.get("/openapi.yaml", null);

        assertEquals(200, response.status(), response.body());
        assertTrue(response.headers().get("Content-Type").startsWith("application/yaml"));
        OpenAPIContract contract = TestGateway.await(OpenAPIContract.from(gateway.vertx, parse(response.body())));
        assertEquals(OpenAPIVersion.V3_1, contract.getVersion());
        assertTrue(contract.operation("submitJob").getRequestBody().isRequired());
    }

    @Test
    void everyRouteOfTheGatewayIsInTheDocumentAndEveryOperationOfTheDocumentIsARoute() {
        OpenAPIContract contract = TestGateway.await(OpenAPIContract.from(gateway.vertx, served(gateway)));
        Set<String> documented = new TreeSet<>();
        contract.operations().forEach(op -> documented.add(op.getHttpMethod().name() + " " + op.getOpenAPIPath()));

        assertEquals(documented, routes(gateway));
        assertTrue(documented.contains("POST /v1/jobs"), documented.toString());
    }

    @Test
    void theDocumentNamesItsServerAndLicenseForClientGenerators() {
        JsonObject document = served(gateway);

        // ONEWAY_HTTP_PORT=0 here: the port is chosen after the document is made, which keeps its default URL.
        // (ReadmeExamplesTest sees the standalone's document name the standalone's own URL.)
        assertEquals("http://localhost:8080", document.getJsonArray("servers").getJsonObject(0).getString("url"));
        assertEquals("Apache-2.0", document.getJsonObject("info").getJsonObject("license").getString("identifier"));
    }

    @Test
    void theDocumentsExampleJobIsAccepted() {
        JsonObject example = exampleJob(gateway);

        TestGateway.Response response = gateway.postJob(ALPHA_KEY, example);

        assertEquals(202, response.status(), response.body());
        assertEquals(example.getString("prompt"), response.json().getString("prompt"));
    }

    @Test
    void theDocumentStatesTheGatewaysSettingsAndModelsAndTheAnnouncedLimitsAreEnforced() {
        try (TestGateway small = new TestGateway(Map.of(Setting.MAX_PROMPT_CHARS, 100),
                new dev.oneway.common.ModelAnnouncement("small", "w1", "sd15", 128, 96, 32, 256, 4, 8,
                        java.util.List.of("tiue", "looped"), "tiue", java.util.List.of("vae"), java.time.Instant.now(),
                        java.time.Instant.now().plusSeconds(60)))) {
            JsonObject fields = served(small).getJsonObject("components").getJsonObject("schemas")
                    .getJsonObject("JobSubmission").getJsonObject("properties");
            assertEquals(100, fields.getJsonObject("prompt").getInteger("maxLength"));
            assertEquals("small", fields.getJsonObject("model").getString("default"));
            assertTrue(fields.getJsonObject("model").getJsonArray("enum").contains("small"));

            TestGateway.Response tooWide = small.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a cat").put("width", 288));
            assertEquals(400, tooWide.status(), tooWide.body());
            assertEquals("width must be a multiple of 32 from 32 to 256, got 288 (model small)", tooWide.errorMessage());
            TestGateway.Response tooLong = small.postJob(ALPHA_KEY, new JsonObject().put("prompt", "x".repeat(101)));
            assertEquals("prompt must be at most 100 characters, got 101", tooLong.errorMessage());
            TestGateway.Response tooManySteps = small.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a cat").put("steps", 9));
            assertEquals("steps must be from 1 to 8, got 9 (model small)", tooManySteps.errorMessage());

            TestGateway.Response exampleAnswer = small.postJob(ALPHA_KEY, exampleJob(small));
            assertEquals(202, exampleAnswer.status(), "the document's example is within its limits: " + exampleAnswer.body());
            assertEquals(128, exampleAnswer.json().getInteger("width"), "the model's announced default");
            assertEquals(96, exampleAnswer.json().getInteger("height"));

            TestGateway.Response accepted = small.postJob(ALPHA_KEY, new JsonObject().put("prompt", "a cat").put("width", 96));
            assertEquals(202, accepted.status(), accepted.body());
            assertEquals(96, accepted.json().getInteger("width"));
            assertEquals(96, accepted.json().getInteger("height"));
        }
    }

    @Test
    void theSourceAndTheServedDocumentPassRedoclyLintWithExamplesWithinTheirOwnLimits(@TempDir Path dir) throws Exception {
        assumeTrue(RedoclyLint.npxAvailable(), "npx (npm) is not installed; .ci/run installs it");
        Map<String, String> documents = new LinkedHashMap<>();
        documents.put("source.yaml", Files.readString(Path.of("src/main/resources", ApiDocument.RESOURCE)));
        documents.put("served.yaml", gateway.get("/openapi.yaml", null).body());

        RedoclyLint.Result lint = RedoclyLint.lint(documents, dir);

        assertTrue(lint.passed(), "redocly lint of " + ApiDocument.RESOURCE + " and of the served document:\n" + lint.output());
        assertTrue(lint.output().contains("served.yaml: validated"), lint.output());
    }

    @Test
    void redoclyLintFailsADocumentWhoseExampleBreaksItsLimits(@TempDir Path dir) throws Exception {
        assumeTrue(RedoclyLint.npxAvailable(), "npx (npm) is not installed; .ci/run installs it");
        JsonObject document = served(gateway);
        document.getJsonObject("paths").getJsonObject("/v1/jobs").getJsonObject("post").getJsonObject("requestBody")
                .getJsonObject("content").getJsonObject("application/json").getJsonObject("example")
                .put("seed", -1);

        RedoclyLint.Result lint = RedoclyLint.lint(Map.of("openapi.yaml", document.encodePrettily()), dir);

        assertFalse(lint.passed(), "an example below the seed's minimum is an error:\n" + lint.output());
        assertTrue(lint.output().contains("no-invalid-media-type-examples"), lint.output());
    }

    @Test
    void thePlaygroundPageIsServedWithoutAKey() {
        TestGateway.Response response = gateway.send(HttpMethod.GET, "/", null, Map.of(), null);

        assertEquals(200, response.status());
        assertTrue(response.headers().get("Content-Type").startsWith("text/html"), response.headers().get("Content-Type"));
        assertTrue(response.body().contains("/v1/events"), "the page follows jobs over the WebSocket");
    }

    @Test
    void thePlaygroundPageIsRevalidatedOnEveryVisitSoANewVersionShowsAtOnce() {
        TestGateway.Response first = gateway.send(HttpMethod.GET, "/", null, Map.of(), null);
        String etag = first.headers().get("ETag");

        assertEquals("no-cache", first.headers().get("Cache-Control"));
        assertTrue(etag != null && etag.matches("\"[0-9a-f]{32}\""), "a strong ETag of the content: " + etag);
        TestGateway.Response unchanged = gateway.send(HttpMethod.GET, "/", null, Map.of("If-None-Match", etag), null);
        assertEquals(304, unchanged.status());
        assertEquals("", unchanged.body());
        TestGateway.Response stale = gateway.send(HttpMethod.GET, "/", null, Map.of("If-None-Match", "\"an-older-page\""), null);
        assertEquals(200, stale.status());
        assertEquals(first.body(), stale.body());
    }

    /** "METHOD /path" of every route that answers requests, paths written as OpenAPI writes them. */
    private static Set<String> routes(TestGateway gateway) {
        Set<String> routes = new TreeSet<>();
        for (Route route : gateway.router().getRoutes()) {
            if (route.methods() == null || route.methods().isEmpty() || route.getPath() == null) {
                continue; // handlers that run for many routes (authentication, failure handling), not endpoints
            }
            String path = route.getPath().replaceAll(":(\\w+)", "{$1}");
            route.methods().forEach(method -> routes.add(method.name() + " " + path));
        }
        return routes;
    }

    private static JsonObject exampleJob(TestGateway gateway) {
        return served(gateway).getJsonObject("paths").getJsonObject("/v1/jobs").getJsonObject("post")
                .getJsonObject("requestBody").getJsonObject("content").getJsonObject("application/json")
                .getJsonObject("example");
    }

    private static JsonObject served(TestGateway gateway) {
        return parse(gateway.get("/openapi.yaml", null).body());
    }

    private static JsonObject parse(String yaml) {
        Map<String, Object> map = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        return new JsonObject(map).copy();
    }
}
