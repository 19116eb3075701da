package dev.oneway.common;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * A job as it travels on the jobs topic (key = id). Every field is resolved: the gateway fills the
 * model's defaults before producing, so a worker never guesses. {@code previews}: the owner wants a job.preview
 * event per sampler step; {@code webhook}: where the terminal event is POSTed (null: nowhere).
 */
public record JobRequest(String id, String tenant, String prompt, long seed, int width, int height, int steps,
                         String sampler, Instant createdAt, boolean previews, String webhook) {

    public JobRequest(String id, String tenant, String prompt, long seed, int width, int height, int steps,
                      String sampler, Instant createdAt) {
        this(id, tenant, prompt, seed, width, height, steps, sampler, createdAt, false, null);
    }

    public JobRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(sampler, "sampler");
        createdAt = Timestamps.millis(Objects.requireNonNull(createdAt, "createdAt"));
    }

    /** Jobs with equal batch keys may share one engine batch. */
    public String batchKey() {
        return width + "x" + height + "/" + steps + "/" + sampler;
    }

    public JsonObject toJson() {
        JsonObject json = new JsonObject()
                .put("id", id)
                .put("tenant", tenant)
                .put("prompt", prompt)
                .put("seed", seed)
                .put("width", width)
                .put("height", height)
                .put("steps", steps)
                .put("sampler", sampler)
                .put("createdAt", Timestamps.format(createdAt));
        if (previews) {
            json.put("previews", true);
        }
        if (webhook != null) {
            json.put("webhook", webhook);
        }
        return json;
    }

    public static JobRequest fromJson(JsonObject json) {
        return new JobRequest(
                json.getString("id"),
                json.getString("tenant"),
                json.getString("prompt"),
                json.getLong("seed"),
                json.getInteger("width"),
                json.getInteger("height"),
                json.getInteger("steps"),
                json.getString("sampler"),
                Timestamps.parse(json.getString("createdAt")),
                json.getBoolean("previews", false),
                json.getString("webhook"));
    }
}
