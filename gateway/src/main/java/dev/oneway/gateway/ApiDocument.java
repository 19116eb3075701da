package dev.oneway.gateway;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The OpenAPI document of the HTTP API (resource {@code openapi.yaml}) as this gateway serves it: the
 * limits and defaults in its schemas are replaced by the gateway's settings, it must be a valid OpenAPI
 * 3.1 contract for the gateway to start, and request bodies are validated against its schemas, so the
 * document, the configuration and the behaviour cannot tell different stories. Job submissions, the hot path, are
 * checked by {@link SubmissionChecks}, the JobSubmission schema compiled into plain checks that answer as the
 * validator does.
 */
final class ApiDocument {

    static final String RESOURCE = "openapi.yaml";
    static final String SUBMIT_JOB = "submitJob";
    static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final OpenAPIContract contract;
    private final String yaml;
    private final JsonObject jobSubmission;
    private final JsonObject idempotencyKey;
    // Built once: building a validator resolves the schema anew, which cost more than the rest of a submission.
    private final Validator submissionValidator;
    private final Validator idempotencyKeyValidator;
    /** The JobSubmission schema as plain checks (null if it ever outgrows them): the hot path of POST /v1/jobs. */
    private final SubmissionChecks submissionChecks;

    private ApiDocument(OpenAPIContract contract, String yaml, JsonObject document) {
        this.contract = contract;
        this.yaml = yaml;
        JsonObject components = document.getJsonObject("components");
        this.jobSubmission = components.getJsonObject("schemas").getJsonObject("JobSubmission");
        this.idempotencyKey = components.getJsonObject("parameters").getJsonObject("IdempotencyKey").getJsonObject("schema");
        Operation submit = contract.operation(SUBMIT_JOB);
        this.submissionValidator = repository().validator(submit.getRequestBody().getContent().get("application/json").getSchema());
        this.idempotencyKeyValidator = submit.getParameters().stream()
                .filter(p -> p.getName().equals(IDEMPOTENCY_KEY))
                .map(p -> repository().validator(p.getSchema()))
                .findFirst().orElseThrow();
        this.submissionChecks = SubmissionChecks.compile(jobSubmission);
    }

    /** Reads the document, applies the settings to it and checks it as an OpenAPI contract. */
    static Future<ApiDocument> load(Vertx vertx, OnewayConfig config) {
        return vertx.executeBlocking(() -> {
            JsonObject document = withSettings(read(), config);
            return Map.entry(document, toYaml(document));
        }).compose(doc -> OpenAPIContract.from(vertx, doc.getKey().copy())
                .recover(err -> Future.failedFuture(new IllegalStateException(
                        RESOURCE + " is not a valid OpenAPI 3.1 document: " + err.getMessage(), err)))
                .map(contract -> new ApiDocument(contract, doc.getValue(), doc.getKey())));
    }

    /** The JobSubmission schema, with the settings' limits. */
    JsonObject jobSubmissionSchema() {
        return jobSubmission;
    }

    /** The document as served at GET /openapi.yaml. */
    String yaml() {
        return yaml;
    }

    /** Null when {@code body} (decoded JSON) is a valid POST /v1/jobs body, else what is wrong with it, in words. */
    String problemWithJobSubmission(Object body) {
        return submissionChecks != null ? submissionChecks.problem(body) : problemWithJobSubmissionBySchema(body);
    }

    /** {@link #problemWithJobSubmission} by the generic JSON-schema validator, which the fast checks must agree with. */
    String problemWithJobSubmissionBySchema(Object body) {
        OutputUnit result = submissionValidator.validate(body);
        return result.getValid() ? null : SchemaMessages.describe(result, jobSubmission, body, "the body");
    }

    /** Null when {@code value} is a valid Idempotency-Key header, else what is wrong with it. */
    String problemWithIdempotencyKey(String value) {
        OutputUnit result = idempotencyKeyValidator.validate(value);
        return result.getValid() ? null : SchemaMessages.describe(result, idempotencyKey, value, IDEMPOTENCY_KEY);
    }

    private SchemaRepository repository() {
        return contract.getSchemaRepository();
    }

    private static JsonObject read() {
        try (InputStream in = ApiDocument.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the gateway");
            }
            Map<String, Object> map = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
            return new JsonObject(map);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The settings decide the prompt's length and the server URL; sizes, steps and samplers are each model's, announced
     * by its workers (GET /v1/models), and the document says so. The model names are the deployment's.
     */
    private static JsonObject withSettings(JsonObject document, OnewayConfig config) {
        JsonObject fields = document.getJsonObject("components").getJsonObject("schemas")
                .getJsonObject("JobSubmission").getJsonObject("properties");
        fields.getJsonObject("prompt").put("maxLength", config.getInt(Setting.MAX_PROMPT_CHARS));
        JsonArray names = new JsonArray(new java.util.ArrayList<Object>(config.models().keySet()));
        fields.getJsonObject("model").put("enum", names.copy().add(null)).put("default", config.defaultModel());
        document.getJsonObject("paths").getJsonObject("/v1/jobs").getJsonObject("post").getJsonObject("requestBody")
                .getJsonObject("content").getJsonObject("application/json").getJsonObject("example")
                .put("model", config.defaultModel());
        // Generated clients start from this URL. With ONEWAY_HTTP_PORT=0 (tests) the port is chosen later, and the
        // document keeps its own default (Vert.x's contract reader wants an absolute URL).
        int port = config.getInt(Setting.HTTP_PORT);
        if (port != 0) {
            document.getJsonArray("servers").getJsonObject(0).put("url", "http://localhost:" + port);
        }
        return document;
    }

    private static String toYaml(JsonObject document) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setIndicatorIndent(0);
        options.setWidth(110);
        return new Yaml(new MultilineLiterals(options), options).dump(plain(document));
    }

    /** JsonObject and JsonArray as the maps and lists a YAML writer knows. */
    private static Object plain(Object value) {
        if (value instanceof JsonObject object) {
            value = object.getMap();
        } else if (value instanceof JsonArray array) {
            value = array.getList();
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), plain(v)));
            return copy;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(ApiDocument::plain).collect(Collectors.toList());
        }
        return value;
    }

    /** Writes multi-line descriptions as YAML literal blocks, as the source document has them. */
    private static final class MultilineLiterals extends Representer {
        MultilineLiterals(DumperOptions options) {
            super(options);
        }

        @Override
        protected Node representScalar(Tag tag, String value, DumperOptions.ScalarStyle style) {
            if (Tag.STR.equals(tag) && value.contains("\n")) {
                style = DumperOptions.ScalarStyle.LITERAL;
            }
            return super.representScalar(tag, value, style);
        }
    }
}
