package dev.oneway.gateway;

import dev.oneway.common.JobRequest;
import dev.oneway.common.ModelAnnouncement;
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
 * The shape of a body is the JobSubmission schema of the gateway's OpenAPI document ({@link ApiDocument}); the
 * sizes, steps and samplers a job may ask for, and its defaults, are those its model's workers announce
 * ({@link ModelCatalog}), because the gateway has no model of its own.
 */
final class SubmissionRules {

    private final ApiDocument api;

    SubmissionRules(ApiDocument api) {
        this.api = api;
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

    /**
     * The job as it goes on its model's topic: every field resolved from the model's announced defaults, so a worker
     * never guesses; a 400 naming the field when the job does not fit the model's announced limits.
     */
    JobRequest resolve(JobSpec spec, ModelAnnouncement model, String id, String tenant, Instant now) {
        JobRequest job = new JobRequest(id, tenant, spec.prompt(),
                spec.seed() != null ? spec.seed() : ThreadLocalRandom.current().nextLong(1L << 32),
                spec.width() != null ? spec.width() : model.width(),
                spec.height() != null ? spec.height() : model.height(),
                spec.steps() != null ? spec.steps() : model.defaultSteps(),
                spec.sampler() != null ? spec.sampler() : model.defaultSampler(),
                now.truncatedTo(ChronoUnit.MILLIS), model.model(),
                spec.decoder() != null ? spec.decoder() : JobRequest.DEFAULT_DECODER,
                Boolean.TRUE.equals(spec.previews()),
                spec.webhook());
        String problem = model.problemWith(job.width(), job.height(), job.steps(), job.sampler());
        if (problem == null && !model.decoders().contains(job.decoder())) {
            problem = "decoder must be one of " + String.join(", ", model.decoders()) + ", got '" + job.decoder()
                    + "' (model " + model.model() + ")";
        }
        if (problem != null) {
            throw ApiError.invalid(problem);
        }
        return job;
    }
}
