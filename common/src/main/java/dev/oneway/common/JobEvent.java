package dev.oneway.common;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * One step in a job's life, as it travels on the events topic (key = job id). The gateway's view of
 * every job is the fold of these events; WebSocket clients receive them as they happen.
 *
 * <p>Optional parts by type: {@code job} on queued (the whole request, so any gateway can answer for
 * the job), {@code batchSize} on started and succeeded, {@code progress} on progress, {@code timings}
 * and {@code result} on succeeded, {@code error} on failed.
 */
public record JobEvent(EventType type, String id, String tenant, Instant at, JobRequest job, Integer batchSize,
                       JsonObject progress, JsonObject timings, ImageResult result, ErrorInfo error) {

    public JobEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        at = Timestamps.millis(Objects.requireNonNull(at, "at"));
    }

    public static JobEvent queued(JobRequest job) {
        return new JobEvent(EventType.QUEUED, job.id(), job.tenant(), job.createdAt(), job, null, null, null, null, null);
    }

    public static JobEvent started(JobRequest job, int batchSize) {
        return new JobEvent(EventType.STARTED, job.id(), job.tenant(), Instant.now(), null, batchSize, null, null, null, null);
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

    public static JobEvent canceled(String id, String tenant) {
        return new JobEvent(EventType.CANCELED, id, tenant, Instant.now(), null, null, null, null, null, null);
    }

    public JobStatus status() {
        return type.status();
    }

    public JsonObject toJson() {
        JsonObject json = new JsonObject()
                .put("type", type.wireName())
                .put("id", id)
                .put("tenant", tenant)
                .put("status", status().wireName())
                .put("at", Timestamps.format(at));
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
                ErrorInfo.fromJson(json.getJsonObject("error")));
    }
}
