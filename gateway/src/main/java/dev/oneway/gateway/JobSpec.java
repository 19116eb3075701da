package dev.oneway.gateway;

import dev.oneway.common.JobRequest;
import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.function.Function;

/**
 * A validated POST /v1/jobs body: what the client asked for; null where it left the choice to the defaults.
 * A new field is a component here, its line in {@link #from}, and its schema in openapi.yaml (which validates it).
 */
record JobSpec(String prompt, Long seed, Integer width, Integer height, Integer steps, String sampler, String model,
               String decoder, Boolean previews, String webhook) {

    /** The typed request from a body that passed the JobSubmission checks (so every value has its schema's type). */
    static JobSpec from(JsonObject body) {
        return new JobSpec(
                body.getString("prompt"),
                integer(body, "seed", Number::longValue),
                integer(body, "width", Number::intValue),
                integer(body, "height", Number::intValue),
                integer(body, "steps", Number::intValue),
                body.getString("sampler"),
                body.getString("model"),
                body.getString("decoder"),
                body.getBoolean("previews"),
                body.getString("webhook"));
    }

    /** JSON Schema counts 512.0 as an integer, so a valid integer field may arrive as a double. */
    private static <T> T integer(JsonObject body, String field, Function<Number, T> as) {
        Number value = (Number) body.getValue(field);
        return value == null ? null : as.apply(value);
    }

    /** Whether an earlier job is the same request: every field this client named has the job's value. */
    boolean sameAs(JobRequest job) {
        return prompt.equals(job.prompt())
                && (seed == null || seed == job.seed())
                && (width == null || width == job.width())
                && (height == null || height == job.height())
                && (steps == null || steps == job.steps())
                && (sampler == null || Objects.equals(sampler, job.sampler()))
                && (model == null || Objects.equals(model, job.model()))
                && (decoder == null || Objects.equals(decoder, job.decoder()))
                && (previews == null || previews == job.previews())
                && Objects.equals(webhook, job.webhook());
    }
}
