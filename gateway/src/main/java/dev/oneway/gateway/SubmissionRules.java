package dev.oneway.gateway;

import dev.oneway.common.JobRequest;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a job may ask for, checked strictly so that a worker never receives a job its model cannot run.
 * The model's limits come from configuration because the gateway has no model (the standalone sets them
 * from the model it loads).
 */
final class SubmissionRules {

    static final List<String> FIELDS = List.of("prompt", "seed", "width", "height", "steps", "sampler");
    /** The engine's sampler wire names (dev.oneway.engine.Sampler), which the gateway cannot depend on. */
    static final List<String> SAMPLERS = List.of("tiue", "looped");
    /** The largest integer a JavaScript client can hold exactly, so seeds round-trip through browsers. */
    static final long MAX_SEED = (1L << 53) - 1;

    private final int defaultWidth;
    private final int defaultHeight;
    private final int defaultSteps;
    private final String defaultSampler;
    private final int sizeMultiple;
    private final int maxSide;
    private final int maxSteps;
    private final int maxPromptChars;

    SubmissionRules(OnewayConfig config) {
        defaultWidth = config.getInt(Setting.DEFAULT_WIDTH);
        defaultHeight = config.getInt(Setting.DEFAULT_HEIGHT);
        defaultSteps = config.getInt(Setting.DEFAULT_STEPS);
        defaultSampler = config.get(Setting.DEFAULT_SAMPLER);
        sizeMultiple = config.getInt(Setting.SIZE_MULTIPLE);
        maxSide = config.getInt(Setting.MAX_SIDE);
        maxSteps = config.getInt(Setting.MAX_STEPS);
        maxPromptChars = config.getInt(Setting.MAX_PROMPT_CHARS);
        String problem = sizeProblem("default width", defaultWidth);
        if (problem == null) {
            problem = sizeProblem("default height", defaultHeight);
        }
        if (problem == null && defaultSteps > maxSteps) {
            problem = "default steps must be at most " + maxSteps;
        }
        if (problem == null && !SAMPLERS.contains(defaultSampler)) {
            problem = "default sampler must be one of " + SAMPLERS;
        }
        if (problem != null) {
            throw new IllegalArgumentException("inconsistent model settings: " + problem
                    + " (ONEWAY_DEFAULT_*, ONEWAY_SIZE_MULTIPLE, ONEWAY_MAX_SIDE, ONEWAY_MAX_STEPS)");
        }
    }

    /** Reads a POST /v1/jobs body; every problem is a 400 whose message names the field. */
    JobSpec parse(Buffer body) {
        if (body == null || body.length() == 0) {
            throw ApiError.invalid("the body must be a JSON object with at least \"prompt\"");
        }
        Object decoded;
        try {
            decoded = Json.decodeValue(body);
        } catch (DecodeException e) {
            throw ApiError.invalid("the body is not valid JSON (UTF-8)");
        }
        if (!(decoded instanceof JsonObject json)) {
            throw ApiError.invalid("the body must be a JSON object, e.g. {\"prompt\": \"a lighthouse at dusk\"}");
        }
        for (String field : json.fieldNames()) {
            if (!FIELDS.contains(field)) {
                throw ApiError.invalid("unknown field '" + field + "'; allowed: " + String.join(", ", FIELDS));
            }
        }
        String prompt = prompt(json.getValue("prompt"));
        Long seed = integer(json, "seed", 0, MAX_SEED);
        Integer width = size(json, "width");
        Integer height = size(json, "height");
        Long steps = integer(json, "steps", 1, maxSteps);
        String sampler = sampler(json.getValue("sampler"));
        return new JobSpec(prompt, seed, width, height, steps == null ? null : steps.intValue(), sampler);
    }

    /** The job as it goes on the topic: every field resolved, so a worker never guesses. */
    JobRequest resolve(JobSpec spec, String id, String tenant, Instant now) {
        return new JobRequest(id, tenant, spec.prompt(),
                spec.seed() != null ? spec.seed() : ThreadLocalRandom.current().nextLong(1L << 32),
                spec.width() != null ? spec.width() : defaultWidth,
                spec.height() != null ? spec.height() : defaultHeight,
                spec.steps() != null ? spec.steps() : defaultSteps,
                spec.sampler() != null ? spec.sampler() : defaultSampler,
                now.truncatedTo(ChronoUnit.MILLIS));
    }

    private String prompt(Object value) {
        if (value == null) {
            throw ApiError.invalid("prompt is required");
        }
        if (!(value instanceof String prompt)) {
            throw ApiError.invalid("prompt must be a string");
        }
        if (prompt.isBlank()) {
            throw ApiError.invalid("prompt must not be blank");
        }
        int chars = prompt.codePointCount(0, prompt.length());
        if (chars > maxPromptChars) {
            throw ApiError.invalid("prompt must be at most " + maxPromptChars + " characters, got " + chars);
        }
        if (prompt.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\t' && c != '\r')) {
            throw ApiError.invalid("prompt must not contain control characters");
        }
        return prompt;
    }

    private Integer size(JsonObject json, String field) {
        Long value = integer(json, field, 1, Integer.MAX_VALUE);
        if (value == null) {
            return null;
        }
        String problem = sizeProblem(field, value);
        if (problem != null) {
            throw ApiError.invalid(problem);
        }
        return value.intValue();
    }

    private String sizeProblem(String field, long value) {
        if (value < sizeMultiple || value > maxSide || value % sizeMultiple != 0) {
            return field + " must be a multiple of " + sizeMultiple + " from " + sizeMultiple + " to " + maxSide
                    + ", got " + value;
        }
        return null;
    }

    /** Null (absent or JSON null) means "use the default"; fractions, strings and booleans are rejected. */
    private static Long integer(JsonObject json, String field, long min, long max) {
        Object value = json.getValue(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Integer || value instanceof Long || value instanceof BigInteger)) {
            throw ApiError.invalid(field + " must be an integer");
        }
        BigInteger number = value instanceof BigInteger big ? big : BigInteger.valueOf(((Number) value).longValue());
        if (number.compareTo(BigInteger.valueOf(min)) < 0 || number.compareTo(BigInteger.valueOf(max)) > 0) {
            throw ApiError.invalid(field + " must be from " + min + " to " + max + ", got " + number);
        }
        return number.longValue();
    }

    private static String sampler(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof String sampler) || !SAMPLERS.contains(sampler)) {
            throw ApiError.invalid("sampler must be one of " + String.join(", ", SAMPLERS));
        }
        return sampler;
    }
}
