package dev.oneway.gateway;

import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * A JSON text frame encoded once (JSON, then UTF-8) and written to any number of WebSockets: each write wraps the
 * same bytes without copying them. Vert.x's public API builds a text frame only from a String, encoding it again
 * for each socket, hence its frame class here (it wraps a byte array as is).
 */
record TextFrame(byte[] utf8) {

    static TextFrame of(JsonObject json) {
        return new TextFrame(json.encode().getBytes(StandardCharsets.UTF_8));
    }

    WebSocketFrame frame() {
        return new WebSocketFrameImpl(WebSocketFrameType.TEXT, utf8, true);
    }
}
