package dev.oneway.gateway;

import dev.oneway.common.EventType;
import dev.oneway.common.ImageResult;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.Timestamps;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * What clients see of jobs and events. Internal fields (tenant, bucket, object key) stay inside; the
 * image is offered as a presigned URL instead.
 */
final class PublicJson {

    private PublicJson() { }

    /** The job as GET /v1/jobs/{id} shows it; {@code link} is required once the job has succeeded. */
    static JsonObject job(JobState state, ImageLinks.ImageLink link) {
        JsonObject json = new JsonObject().put("id", state.id()).put("status", state.status().wireName());
        if (state.request() != null) {
            json.mergeIn(request(state.request()));
        }
        putIfPresent(json, "startedAt", state.startedAt());
        putIfPresent(json, "finishedAt", state.finishedAt());
        putIfPresent(json, "batchSize", state.batchSize());
        putIfPresent(json, "progress", state.progress());
        putIfPresent(json, "timings", state.timings());
        if (state.result() != null) {
            json.put("result", result(state.result(), link));
        }
        if (state.error() != null) {
            json.put("error", state.error().toJson());
        }
        if (state.request() != null && state.request().webhook() != null) {
            json.put("webhook", webhook(state));
        }
        return json;
    }

    /**
     * The job's webhook: its URL and the delivery's outcome once recorded (delivered or failed, attempts, lastStatus,
     * error); "pending" until then.
     */
    private static JsonObject webhook(JobState state) {
        JsonObject json = new JsonObject().put("url", state.request().webhook());
        if (state.webhook() == null) {
            return json.put("status", "pending");
        }
        for (String field : new String[] {"id", "status", "attempts", "lastStatus", "error"}) {
            if (state.webhook().containsKey(field)) {
                json.put(field, state.webhook().getValue(field));
            }
        }
        return json;
    }

    /** One WebSocket frame: the event as it is on the topic, less what is internal. */
    static JsonObject event(JobEvent event, ImageLinks.ImageLink link) {
        JsonObject json = event.toJson();
        json.remove("tenant");
        if (event.type() != EventType.WEBHOOK) {
            json.remove("webhook"); // on a terminal event: the deliverer's marker, not news to the client
        }
        if (event.job() != null) {
            json.put("job", request(event.job()));
        }
        if (event.result() != null) {
            json.put("result", result(event.result(), link));
        }
        return json;
    }

    private static JsonObject request(JobRequest job) {
        JsonObject json = new JsonObject()
                .put("prompt", job.prompt())
                .put("seed", job.seed())
                .put("width", job.width())
                .put("height", job.height())
                .put("steps", job.steps())
                .put("sampler", job.sampler())
                .put("decoder", job.decoder());
        if (job.model() != null) {
            json.put("model", job.model());
        }
        json.put("createdAt", Timestamps.format(job.createdAt()));
        if (job.previews()) {
            json.put("previews", true);
        }
        return json;
    }

    /** Without a link (presigning failed) the client still learns the image exists and can GET the job for one. */
    private static JsonObject result(ImageResult image, ImageLinks.ImageLink link) {
        JsonObject json = new JsonObject();
        if (link != null) {
            json.put("url", link.url()).put("expiresAt", Timestamps.format(link.expiresAt()));
        }
        return json.put("contentType", image.contentType())
                .put("width", image.width())
                .put("height", image.height())
                .put("bytes", image.bytes());
    }

    private static void putIfPresent(JsonObject json, String field, Object value) {
        if (value != null) {
            json.put(field, value instanceof Instant at ? Timestamps.format(at) : value);
        }
    }
}
