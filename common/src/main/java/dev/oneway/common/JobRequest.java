package dev.oneway.common;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * A job as it travels on its model's jobs topic (key = id). Every field is resolved: the gateway fills the
 * model's defaults before producing, so a worker never guesses.
 * <ul>
 * <li>{@code model}: the model the job named (or the deployment's default); null only in records written before
 * models were named, which the topic's model runs.</li>
 * <li>{@code decoder}: {@code vae} or {@code taesd}.</li>
 * <li>{@code previews}: the owner wants a job.preview event per sampler step.</li>
 * <li>{@code webhook}: where the terminal event is POSTed (null: nowhere).</li>
 * </ul>
 */
public record JobRequest(String id, String tenant, String prompt, long seed, int width, int height, int steps,
                         String sampler, Instant createdAt, String model, String decoder, boolean previews,
                         String webhook) {

    /** The decoder of a job that names none: the model's full VAE. */
    public static final String DEFAULT_DECODER = "vae";

    public JobRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(decoder, "decoder");
        createdAt = Timestamps.millis(Objects.requireNonNull(createdAt, "createdAt"));
    }

    /** A job without a model name, decoded by the full VAE, with no previews and no webhook. */
    public JobRequest(String id, String tenant, String prompt, long seed, int width, int height, int steps,
                      String sampler, Instant createdAt) {
        this(id, tenant, prompt, seed, width, height, steps, sampler, createdAt, null, DEFAULT_DECODER, false, null);
    }

    /** Jobs with equal batch keys may share one engine batch (the engine decodes a batch with one decoder). */
    public String batchKey() {
        return model + "/" + width + "x" + height + "/" + steps + "/" + sampler + "/" + decoder;
    }

    /** Width x height of the jobs of a {@link #batchKey()} (model names hold no '/', as topic names cannot). */
    public static long pixelsOfBatchKey(String batchKey) {
        String[] size = batchKey.split("/")[1].split("x");
        return Long.parseLong(size[0]) * Long.parseLong(size[1]);
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
                .put("createdAt", Timestamps.format(createdAt))
                .put("decoder", decoder);
        if (model != null) {
            json.put("model", model);
        }
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
                json.getString("model"),
                // records written before jobs could name a decoder
                json.getString("decoder", DEFAULT_DECODER),
                json.getBoolean("previews", false),
                json.getString("webhook"));
    }
}
