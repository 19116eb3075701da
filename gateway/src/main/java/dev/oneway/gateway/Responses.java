package dev.oneway.gateway;

import dev.oneway.common.ErrorInfo;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Every answer the gateway sends is JSON; every failure leaves as {"error": {"code", "message"}}, never a stack trace or HTML. */
final class Responses {

    private static final Logger log = LoggerFactory.getLogger(Responses.class);
    private static final Pattern MALFORMED_ESCAPE = Pattern.compile("%(?![0-9A-Fa-f]{2})");

    private Responses() { }

    static void json(RoutingContext ctx, int status, JsonObject body) {
        json(ctx.response(), status, body);
    }

    static Future<Void> json(HttpServerResponse response, int status, JsonObject body) {
        return response.setStatusCode(status)
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .putHeader("Cache-Control", "no-store")
                .end(body.encode());
    }

    /** The router's failure handler: thrown {@link ApiError}s, statuses set by Vert.x Web (413, 415...) and bugs. */
    static void handle(RoutingContext ctx) {
        if (ctx.response().headWritten()) {
            ctx.request().connection().close();
            return;
        }
        if (isMalformedHttp(ctx.failure())) {
            // The body's framing broke after routing (e.g. a bad chunk size): the client's fault, and the connection is unusable.
            json(ctx.response().putHeader("Connection", "close"), 400,
                    new ErrorInfo("invalid_request", "malformed HTTP request body").toBody())
                    .onComplete(v -> ctx.request().connection().close());
            return;
        }
        ApiError error = ctx.failure() instanceof ApiError e ? e : fromStatus(ctx);
        error.headers.forEach(ctx.response()::putHeader);
        json(ctx, error.status, error.error.toBody());
    }

    private static ApiError fromStatus(RoutingContext ctx) {
        int status = ctx.statusCode();
        return switch (status) {
            case 400 -> ApiError.invalid("the request could not be read");
            case 404 -> ApiError.notFound("no such endpoint: " + ctx.request().method() + " " + ctx.request().path());
            case 405 -> new ApiError(405, "method_not_allowed",
                    ctx.request().method() + " is not supported on " + ctx.request().path());
            case 413 -> new ApiError(413, "body_too_large", "the request body exceeds the gateway's limit");
            case 415 -> unsupportedMediaType();
            default -> {
                if (status < 500 && status >= 400) {
                    yield new ApiError(status, "invalid_request", "the request was rejected (HTTP " + status + ")");
                }
                log.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
                yield new ApiError(500, "internal_error", "unexpected error; it was logged");
            }
        };
    }

    /**
     * Answers 400 for a URI with a broken %-escape (e.g. "%zz"), on which Vert.x Web's path normalization and
     * query decoding throw while routing, which would otherwise leave as a 500.
     */
    static Handler<HttpServerRequest> rejectingMalformedUris(Handler<HttpServerRequest> next) {
        return request -> {
            if (MALFORMED_ESCAPE.matcher(request.uri()).find()) {
                json(request.response(), 400, new ErrorInfo("invalid_request",
                        "the request URI has a malformed %-escape; use %XX with two hex digits").toBody());
            } else {
                next.handle(request);
            }
        };
    }

    /** A failure raised by Netty's HTTP decoder while reading the request. */
    private static boolean isMalformedHttp(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            StackTraceElement[] trace = t.getStackTrace();
            if (t instanceof DecoderException
                    || (trace.length > 0 && trace[0].getClassName().startsWith("io.netty.handler.codec.http."))) {
                return true;
            }
        }
        return false;
    }

    static ApiError unsupportedMediaType() {
        return new ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json");
    }

    /** Requests Netty could not even parse (oversized headers or request line, broken framing) never reach the router. */
    static void invalidRequest(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        ErrorInfo error;
        int status;
        if (cause instanceof TooLongHttpHeaderException) {
            status = 431;
            error = new ErrorInfo("headers_too_large", "the request headers are too large");
        } else if (cause instanceof TooLongHttpLineException) {
            status = 414;
            error = new ErrorInfo("uri_too_long", "the request line is too long");
        } else {
            status = 400;
            error = new ErrorInfo("invalid_request", "malformed HTTP request");
        }
        json(request.response().putHeader("Connection", "close"), status, error.toBody())
                .onComplete(v -> request.connection().close());
    }
}
