package dev.oneway.common;

import io.vertx.core.json.JsonObject;

/** Where a finished image lives. The gateway turns bucket + key into a presigned URL for its owner. */
public record ImageResult(String bucket, String objectKey, String contentType, int width, int height, long bytes) {

    public JsonObject toJson() {
        return new JsonObject()
                .put("bucket", bucket)
                .put("objectKey", objectKey)
                .put("contentType", contentType)
                .put("width", width)
                .put("height", height)
                .put("bytes", bytes);
    }

    public static ImageResult fromJson(JsonObject json) {
        return json == null ? null : new ImageResult(
                json.getString("bucket"),
                json.getString("objectKey"),
                json.getString("contentType"),
                json.getInteger("width"),
                json.getInteger("height"),
                json.getLong("bytes"));
    }
}
