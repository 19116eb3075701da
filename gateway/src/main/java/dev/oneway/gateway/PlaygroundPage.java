package dev.oneway.gateway;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * GET /: the playground page, one file read from the classpath once. Served {@code Cache-Control: no-cache} with
 * an ETag of its content: a browser asks again every time and gets {@code 304} until a new gateway version
 * changes the page, instead of keeping an old page for a day.
 */
final class PlaygroundPage implements Handler<RoutingContext> {

    static final String RESOURCE = "playground/index.html";

    private final Buffer page;
    private final String etag;

    PlaygroundPage() {
        try (InputStream in = PlaygroundPage.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the gateway");
            }
            byte[] bytes = in.readAllBytes();
            this.page = Buffer.buffer(bytes);
            this.etag = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 16) + "\"";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void handle(RoutingContext ctx) {
        ctx.response()
                .putHeader("Cache-Control", "no-cache")
                .putHeader("ETag", etag);
        String ifNoneMatch = ctx.request().getHeader("If-None-Match");
        if (ifNoneMatch != null && (ifNoneMatch.contains(etag) || ifNoneMatch.trim().equals("*"))) {
            ctx.response().setStatusCode(304).end();
            return;
        }
        ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").end(page);
    }
}
