package dev.oneway.gateway;

import dev.oneway.common.ErrorInfo;
import java.util.Map;

/**
 * A failure a client caused or must be told about. Handlers throw it or fail their context with it;
 * {@link Responses} turns it into the status and the one JSON error body.
 */
final class ApiError extends RuntimeException {

    final int status;
    final ErrorInfo error;
    final Map<String, String> headers;

    ApiError(int status, String code, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.error = new ErrorInfo(code, message);
        this.headers = headers;
    }

    ApiError(int status, String code, String message) {
        this(status, code, message, Map.of());
    }

    static ApiError invalid(String message) {
        return new ApiError(400, "invalid_request", message);
    }

    static ApiError notFound(String message) {
        return new ApiError(404, "not_found", message);
    }

    static ApiError noSuchJob(String id) {
        return notFound("no job '" + id + "'");
    }

    static ApiError unauthorized(String message) {
        return new ApiError(401, "unauthorized", message, Map.of("WWW-Authenticate", "Bearer"));
    }

    static ApiError tooManyRequests(String code, String message, long retryAfterSeconds) {
        return new ApiError(429, code, message, Map.of("Retry-After", String.valueOf(retryAfterSeconds)));
    }

    static ApiError unavailable(String code, String message, long retryAfterSeconds) {
        return new ApiError(503, code, message, Map.of("Retry-After", String.valueOf(retryAfterSeconds)));
    }
}
