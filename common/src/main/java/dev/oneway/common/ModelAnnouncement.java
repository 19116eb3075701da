package dev.oneway.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one worker says about one model it serves, on the compacted models topic (key {@link #key()}): the model's
 * family, native size, the sizes and steps it accepts, its samplers and decoders. Workers renew it every
 * ONEWAY_MODEL_ANNOUNCE_INTERVAL_MS; one not renewed by {@code liveUntil} is a worker gone (crashed). A worker
 * that stops on purpose writes its last word, already expired, under the model's own key (so the model's limits stay
 * known after compaction) and a tombstone for its key. Gateways validate and complete jobs from it, so a limit is
 * stated once, by the model that has it.
 *
 * @param sizeMultiple width and height must be multiples of it (8 x 2^(UNet downsamplers))
 * @param maxSide the largest width or height
 */
public record ModelAnnouncement(String model, String worker, String family, int width, int height, int sizeMultiple,
                                int maxSide, int defaultSteps, int maxSteps, List<String> samplers, String defaultSampler,
                                List<String> decoders, Instant announcedAt, Instant liveUntil) {

    public ModelAnnouncement {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(worker, "worker");
        samplers = List.copyOf(samplers);
        decoders = List.copyOf(decoders);
        announcedAt = Timestamps.millis(announcedAt);
        liveUntil = Timestamps.millis(liveUntil);
    }

    /** The record key: one per model and worker, so compaction keeps each worker's latest word. */
    public String key() {
        return key(model, worker);
    }

    public static String key(String model, String worker) {
        return model + "|" + worker;
    }

    /** Whether a record key is a worker's (model|worker) rather than a model's last known limits (model). */
    public static boolean isWorkerKey(String key) {
        return key.indexOf('|') >= 0;
    }

    /** The model named by a record key (also by a tombstone's). */
    public static String modelOfKey(String key) {
        int bar = key.indexOf('|');
        return bar < 0 ? key : key.substring(0, bar);
    }

    public boolean liveAt(Instant now) {
        return !liveUntil.isBefore(now);
    }

    /** Null when a job of this shape fits the model, else what is wrong, naming the field and the limit. */
    public String problemWith(int width, int height, int steps, String sampler) {
        for (int side : new int[] {width, height}) {
            if (side < sizeMultiple || side > maxSide || side % sizeMultiple != 0) {
                return (side == width ? "width" : "height") + " must be a multiple of " + sizeMultiple + " from "
                        + sizeMultiple + " to " + maxSide + ", got " + side + " (model " + model + ")";
            }
        }
        if (steps < 1 || steps > maxSteps) {
            return "steps must be from 1 to " + maxSteps + ", got " + steps + " (model " + model + ")";
        }
        if (!samplers.contains(sampler)) {
            return "sampler must be one of " + String.join(", ", samplers) + ", got '" + sampler + "' (model " + model + ")";
        }
        return null;
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("model", model)
                .put("worker", worker)
                .put("family", family)
                .put("width", width)
                .put("height", height)
                .put("sizeMultiple", sizeMultiple)
                .put("maxSide", maxSide)
                .put("defaultSteps", defaultSteps)
                .put("maxSteps", maxSteps)
                .put("samplers", new JsonArray(samplers))
                .put("defaultSampler", defaultSampler)
                .put("decoders", new JsonArray(decoders))
                .put("announcedAt", Timestamps.format(announcedAt))
                .put("liveUntil", Timestamps.format(liveUntil));
    }

    public static ModelAnnouncement fromJson(JsonObject json) {
        return new ModelAnnouncement(
                json.getString("model"),
                json.getString("worker"),
                json.getString("family"),
                json.getInteger("width"),
                json.getInteger("height"),
                json.getInteger("sizeMultiple"),
                json.getInteger("maxSide"),
                json.getInteger("defaultSteps"),
                json.getInteger("maxSteps"),
                strings(json.getJsonArray("samplers")),
                json.getString("defaultSampler"),
                strings(json.getJsonArray("decoders")),
                Timestamps.parse(json.getString("announcedAt")),
                Timestamps.parse(json.getString("liveUntil")));
    }

    private static List<String> strings(JsonArray array) {
        return array == null ? List.of() : array.stream().map(String::valueOf).toList();
    }
}
