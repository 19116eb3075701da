package dev.oneway.common;

import io.vertx.core.json.JsonObject;

/**
 * The one error shape of Oneway: {"code": "...", "message": "..."}. HTTP answers wrap it as
 * {"error": {...}}; failed job events and job views carry it as "error".
 */
public record ErrorInfo(String code, String message) {

    public JsonObject toJson() {
        return new JsonObject().put("code", code).put("message", message);
    }

    /** The HTTP body form: {"error": {"code", "message"}}. */
    public JsonObject toBody() {
        return new JsonObject().put("error", toJson());
    }

    public static ErrorInfo fromJson(JsonObject json) {
        return json == null ? null : new ErrorInfo(json.getString("code"), json.getString("message"));
    }
}
