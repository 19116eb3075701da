package dev.oneway.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.common.OnewayConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hand-written checks of POST /v1/jobs bodies (the hot path) say exactly what the JSON-schema validator says of
 * the API document's JobSubmission schema, on a corpus of valid and invalid bodies: hand-picked edge cases and the
 * fuzz test's generated ones. The typed request read from each valid body holds the body's values.
 */
class SubmissionChecksTest {

    static Vertx vertx;
    static ApiDocument api;

    @BeforeAll
    static void load() {
        vertx = Vertx.vertx();
        api = TestGateway.await(ApiDocument.load(vertx, OnewayConfig.from(Map.of())));
    }

    @AfterAll
    static void close() {
        TestGateway.await(vertx.close());
    }

    @Test
    void theDocumentsJobSubmissionSchemaCompilesToTheFastChecks() {
        assertNotNull(SubmissionChecks.compile(api.jobSubmissionSchema()),
                "the JobSubmission schema uses a keyword the fast checks do not know; teach them, or POST /v1/jobs "
                        + "falls back to the generic validator");
    }

    @Test
    void theFastChecksAnswerEveryBodyOfTheCorpusAsTheSchemaValidatorDoes() {
        List<String> corpus = new ArrayList<>(List.of(
                "{}", "null", "[]", "42", "\"prompt\"", "true", "{\"prompt\": null}", "{\"prompt\": 5}",
                "{\"prompt\": \"a cat\"}", "{\"prompt\": \"  \"}", "{\"prompt\": \"a\\u0000b\"}",
                "{\"prompt\": \"" + "x".repeat(2001) + "\"}", "{\"prompt\": \"" + " ".repeat(2001) + "\"}",
                "{\"prompt\": \"" + "\uD83D\uDE00".repeat(2000) + "\"}", "{\"prompt\": \"" + "\uD83D\uDE00".repeat(2001) + "\"}",
                "{\"prompt\": \"a\\u007fb\"}", "{\"prompt\": \"a\\u0085b\"}", "{\"prompt\": \"tab\\there\"}",
                "{\"prompt\": \"a cat\", \"width\": \"512\"}", "{\"prompt\": \"a cat\", \"width\": 500}",
                "{\"prompt\": \"a cat\", \"width\": 512.0}", "{\"prompt\": \"a cat\", \"width\": 512.5}",
                "{\"prompt\": \"a cat\", \"width\": 1e3}", "{\"prompt\": \"a cat\", \"width\": 1e300}",
                "{\"prompt\": \"a cat\", \"width\": null}", "{\"prompt\": \"a cat\", \"width\": -64}",
                "{\"prompt\": \"a cat\", \"height\": 2048}", "{\"prompt\": \"a cat\", \"steps\": 0}",
                "{\"prompt\": \"a cat\", \"steps\": 50}", "{\"prompt\": \"a cat\", \"steps\": true}",
                "{\"prompt\": \"a cat\", \"seed\": -1}", "{\"prompt\": \"a cat\", \"seed\": 9007199254740991}",
                "{\"prompt\": \"a cat\", \"seed\": 9007199254740992}",
                "{\"prompt\": \"a cat\", \"seed\": 123456789012345678901234567890}",
                "{\"prompt\": \"a cat\", \"sampler\": \"euler\"}", "{\"prompt\": \"a cat\", \"sampler\": null}",
                "{\"prompt\": \"a cat\", \"sampler\": 3}", "{\"prompt\": \"a cat\", \"sampler\": \"looped\"}",
                "{\"prompt\": \"a cat\", \"negative_prompt\": \"dogs\"}", "{\"prompt\": \"a cat\", \"a/b~c d\": 1}",
                "{\"prompt\": \"a cat\", \"\u00e9t\u00e9\": 1}", "{\"width\": 500, \"bogus\": 1}",
                "{\"prompt\": 5, \"width\": \"x\", \"bogus\": 1}", "{\"bogus\": 1, \"prompt\": \"ok\", \"steps\": 99}",
                "{\"prompt\": \"a cat\", \"seed\": 1, \"width\": 64, \"height\": 1024, \"steps\": 1, \"sampler\": \"tiue\"}"));
        Random random = new Random(7);
        for (int i = 0; i < 4000; i++) {
            corpus.add((i % 4 == 0 ? GatewayFuzzTest.mutatedJson(random) : GatewayFuzzTest.mistypedJson(random)).toString());
        }
        SubmissionChecks checks = SubmissionChecks.compile(api.jobSubmissionSchema());
        List<String> disagreements = new ArrayList<>();
        int valid = 0;
        int invalid = 0;
        for (String text : corpus) {
            Object body;
            try {
                body = Json.decodeValue(Buffer.buffer(text));
            } catch (DecodeException e) {
                continue; // not JSON: answered before any check
            }
            String bySchema = api.problemWithJobSubmissionBySchema(body);
            String fast = checks.problem(body);
            if (!java.util.Objects.equals(bySchema, fast)) {
                disagreements.add(abbreviate(text) + "\n  schema: " + bySchema + "\n  checks: " + fast);
            } else if (fast == null) {
                valid++;
                JsonObject json = (JsonObject) body;
                JobSpec spec = JobSpec.from(json);
                assertEquals(json.getString("prompt"), spec.prompt());
                assertEquals(json.getValue("width") == null ? null : ((Number) json.getValue("width")).intValue(), spec.width());
                assertEquals(json.getValue("seed") == null ? null : ((Number) json.getValue("seed")).longValue(), spec.seed());
            } else {
                invalid++;
            }
        }
        assertEquals(List.of(), disagreements.subList(0, Math.min(10, disagreements.size())),
                disagreements.size() + " bodies answered differently");
        assertTrue(valid > 50 && invalid > 1000, "a corpus of both kinds: " + valid + " valid, " + invalid + " invalid");
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...(" + s.length() + " chars)";
    }
}
