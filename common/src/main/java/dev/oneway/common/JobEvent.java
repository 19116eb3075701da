package dev.oneway.common;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * One step in a job's life, as it travels on the events topic (key = job id). The gateway's view of
 * every job is the fold of these events; WebSocket clients receive them as they happen.
 *
 * <p>Optional parts by type: {@code job} on queued and claimed (the whole request; queued is never written to
 * the topic, gateways derive it from the job record), {@code batchSize} on started, retrying and succeeded, {@code progress}
 * on progress, {@code timings} and {@code result} on succeeded, {@code error} on failed, {@code attempt} on
 * retrying, {@code preview} on preview ({@code step}, {@code steps}, {@code width}, {@code height}, {@code png} in
 * base64), {@code webhook} on a terminal event of a job with a webhook ({@code url}: where the deliverer POSTs it)
 * and on job.webhook (the delivery's outcome).
 */
public record JobEvent(EventType type, String id, String tenant, Instant at, JobRequest job, Integer batchSize,
                       JsonObject progress, JsonObject timings, ImageResult result, ErrorInfo error, Integer attempt,
                       JsonObject preview, JsonObject webhook) {

    public JobEvent(EventType type, String id, String tenant, Instant at, JobRequest job, Integer batchSize,
                    JsonObject progress, JsonObject timings, ImageResult result, ErrorInfo error, Integer attempt) {
        this(type, id, tenant, at, job, batchSize, progress, timings, result, error, attempt, null, null);
    }

    public JobEvent(EventType type, String id, String tenant, Instant at, JobRequest job, Integer batchSize,
                    JsonObject progress, JsonObject timings, ImageResult result, ErrorInfo error) {
        this(type, id, tenant, at, job, batchSize, progress, timings, result, error, null);
    }

    public JobEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        at = Timestamps.millis(Objects.requireNonNull(at, "at"));
    }

    public static JobEvent queued(JobRequest job) {
        return new JobEvent(EventType.QUEUED, job.id(), job.tenant(), job.createdAt(), job, null, null, null, null, null);
    }

    /** A gateway's claim of the id of a job with an Idempotency-Key (see {@link EventType#CLAIMED}). */
    public static JobEvent claimed(JobRequest job) {
        return new JobEvent(EventType.CLAIMED, job.id(), job.tenant(), job.createdAt(), job, null, null, null, null, null);
    }

    public static JobEvent started(JobRequest job, int batchSize) {
        return new JobEvent(EventType.STARTED, job.id(), job.tenant(), Instant.now(), null, batchSize, null, null, null, null);
    }

    /** A later attempt of a job that has started before: on a redelivery, or after a failed attempt was requeued. */
    public static JobEvent retrying(JobRequest job, int batchSize, int attempt) {
        return new JobEvent(EventType.RETRYING, job.id(), job.tenant(), Instant.now(), null, batchSize, null, null, null,
                null, attempt);
    }

    /** A run given back unfinished when the job's partition moved (see {@link EventType#RELEASED}). */
    public static JobEvent released(JobRequest job) {
        return new JobEvent(EventType.RELEASED, job.id(), job.tenant(), Instant.now(), null, null, null, null, null, null);
    }

    public static JobEvent progress(JobRequest job, String stage, int done, int total) {
        JsonObject progress = new JsonObject().put("stage", stage).put("done", done).put("total", total);
        return new JobEvent(EventType.PROGRESS, job.id(), job.tenant(), Instant.now(), null, null, progress, null, null, null);
    }

    public static JobEvent succeeded(JobRequest job, int batchSize, JsonObject timings, ImageResult result) {
        return new JobEvent(EventType.SUCCEEDED, job.id(), job.tenant(), Instant.now(), null, batchSize, null, timings, result, null);
    }

    public static JobEvent failed(JobRequest job, ErrorInfo error) {
        return new JobEvent(EventType.FAILED, job.id(), job.tenant(), Instant.now(), null, null, null, null, null, error);
    }

    /** The terminal event of a job canceled before it started, at {@code at}. */
    public static JobEvent canceled(String id, String tenant, Instant at) {
        return new JobEvent(EventType.CANCELED, id, tenant, at, null, null, null, null, null, null);
    }

    public static JobEvent canceled(String id, String tenant) {
        return canceled(id, tenant, Instant.now());
    }

    /** A client's DELETE (see {@link EventType#CANCEL_REQUESTED}). */
    public static JobEvent cancelRequested(String id, String tenant) {
        return new JobEvent(EventType.CANCEL_REQUESTED, id, tenant, Instant.now(), null, null, null, null, null, null);
    }

    /** One sampler step's predicted image, a small PNG in base64 (see the engine's LatentPreview). */
    public static JobEvent preview(JobRequest job, int step, int steps, int width, int height, String pngBase64) {
        JsonObject preview = new JsonObject().put("step", step).put("steps", steps).put("width", width)
                .put("height", height).put("png", pngBase64);
        return new JobEvent(EventType.PREVIEW, job.id(), job.tenant(), Instant.now(), null, null, null, null, null, null,
                null, preview, null);
    }

    /** The outcome of a webhook delivery: {@code url}, {@code status} (delivered, failed), {@code attempts}, ... */
    public static JobEvent webhookOutcome(String id, String tenant, JsonObject outcome) {
        return new JobEvent(EventType.WEBHOOK, id, tenant, Instant.now(), null, null, null, null, null, null, null, null,
                outcome);
    }

    /** This terminal event, marked for delivery to the job's webhook (unchanged when the job has none). */
    public JobEvent withWebhookOf(JobRequest job) {
        if (job == null || job.webhook() == null) {
            return this;
        }
        return new JobEvent(type, id, tenant, at, this.job, batchSize, progress, timings, result, error, attempt, preview,
                new JsonObject().put("url", job.webhook()));
    }

    public JobStatus status() {
        return type.status();
    }

    public JsonObject toJson() {
        JsonObject json = new JsonObject()
                .put("type", type.wireName())
                .put("id", id)
                .put("tenant", tenant);
        if (status() != null) { // a request (a claim, a cancel request) has no status: it is not a state
            json.put("status", status().wireName());
        }
        json.put("at", Timestamps.format(at));
        if (job != null) {
            json.put("job", job.toJson());
        }
        if (batchSize != null) {
            json.put("batchSize", batchSize);
        }
        if (progress != null) {
            json.put("progress", progress);
        }
        if (timings != null) {
            json.put("timings", timings);
        }
        if (result != null) {
            json.put("result", result.toJson());
        }
        if (error != null) {
            json.put("error", error.toJson());
        }
        if (attempt != null) {
            json.put("attempt", attempt);
        }
        if (preview != null) {
            json.put("preview", preview);
        }
        if (webhook != null) {
            json.put("webhook", webhook);
        }
        return json;
    }

    public static JobEvent fromJson(JsonObject json) {
        JsonObject job = json.getJsonObject("job");
        return new JobEvent(
                EventType.fromWireName(json.getString("type")),
                json.getString("id"),
                json.getString("tenant"),
                Timestamps.parse(json.getString("at")),
                job == null ? null : JobRequest.fromJson(job),
                json.getInteger("batchSize"),
                json.getJsonObject("progress"),
                json.getJsonObject("timings"),
                ImageResult.fromJson(json.getJsonObject("result")),
                ErrorInfo.fromJson(json.getJsonObject("error")),
                json.getInteger("attempt"),
                json.getJsonObject("preview"),
                json.getJsonObject("webhook"));
    }
}
