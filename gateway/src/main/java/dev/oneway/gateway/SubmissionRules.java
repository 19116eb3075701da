package dev.oneway.gateway;

import dev.oneway.common.JobRequest;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Webhooks;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a job may ask for, checked strictly so that a worker never receives a job its model cannot run.
 * The rules are the JobSubmission schema of the gateway's OpenAPI document ({@link ApiDocument}), whose
 * limits come from configuration because the gateway has no model (the standalone sets them from the
 * model it loads).
 */
final class SubmissionRules {

    private final ApiDocument api;
    private final int defaultWidth;
    private final int defaultHeight;
    private final int defaultSteps;
    private final String defaultSampler;

    SubmissionRules(OnewayConfig config, ApiDocument api) {
        this.api = api;
        defaultWidth = config.getInt(Setting.DEFAULT_WIDTH);
        defaultHeight = config.getInt(Setting.DEFAULT_HEIGHT);
        defaultSteps = config.getInt(Setting.DEFAULT_STEPS);
        defaultSampler = config.get(Setting.DEFAULT_SAMPLER);
        JsonObject defaults = new JsonObject().put("prompt", "the defaults").put("width", defaultWidth)
                .put("height", defaultHeight).put("steps", defaultSteps).put("sampler", defaultSampler);
        String problem = api.problemWithJobSubmission(defaults);
        if (problem != null) {
            throw new IllegalArgumentException("inconsistent model settings: default " + problem
                    + " (ONEWAY_DEFAULT_*, ONEWAY_SIZE_MULTIPLE, ONEWAY_MAX_SIDE, ONEWAY_MAX_STEPS)");
        }
    }

    /**
     * Reads a POST /v1/jobs body: one JSON parse, the document's checks on what it holds, then the typed request.
     * Every problem is a 400 whose message names the field.
     */
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
        String problem = api.problemWithJobSubmission(decoded);
        if (problem != null) {
            throw ApiError.invalid(problem);
        }
        JsonObject json = (JsonObject) decoded;
        String webhook = json.getString("webhook");
        String webhookProblem = webhook == null ? null : Webhooks.problemWithUrl(webhook);
        if (webhookProblem != null) {
            throw ApiError.invalid(webhookProblem);
        }
        return JobSpec.from(json);
    }

    /** A 400 unless the Idempotency-Key header is as the document describes it. */
    void checkIdempotencyKey(String idempotencyKey) {
        String problem = api.problemWithIdempotencyKey(idempotencyKey);
        if (problem != null) {
            throw ApiError.invalid(problem);
        }
    }

    /** The job as it goes on the topic: every field resolved, so a worker never guesses. */
    JobRequest resolve(JobSpec spec, String id, String tenant, Instant now) {
        return new JobRequest(id, tenant, spec.prompt(),
                spec.seed() != null ? spec.seed() : ThreadLocalRandom.current().nextLong(1L << 32),
                spec.width() != null ? spec.width() : defaultWidth,
                spec.height() != null ? spec.height() : defaultHeight,
                spec.steps() != null ? spec.steps() : defaultSteps,
                spec.sampler() != null ? spec.sampler() : defaultSampler,
                now.truncatedTo(ChronoUnit.MILLIS),
                spec.decoder() != null ? spec.decoder() : JobRequest.DEFAULT_DECODER,
                Boolean.TRUE.equals(spec.previews()),
                spec.webhook());
    }
}
