package dev.oneway.gateway;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Who is calling. Only SHA-256 hashes of the keys are kept, so a heap dump does not leak them, and a
 * presented key is compared against every stored hash in constant time, so response timing does not
 * reveal how much of a key was right or which entry matched.
 */
final class ApiKeys {

    static final String TENANT = "oneway.tenant";

    private record Entry(byte[] keyHash, String tenant) { }

    private final List<Entry> entries = new ArrayList<>();

    ApiKeys(Map<String, String> tenantByKey) {
        tenantByKey.forEach((key, tenant) -> entries.add(new Entry(sha256(key), tenant)));
    }

    /** Route handler: puts the caller's tenant into the context or fails with 401. */
    void requireKey(RoutingContext ctx) {
        ctx.put(TENANT, tenantOf(ctx.request(), false));
        ctx.next();
    }

    /**
     * The tenant of the key in "Authorization: Bearer KEY", or, where browsers cannot set headers
     * (WebSockets), in the access_token query parameter.
     */
    String tenantOf(HttpServerRequest request, boolean allowQueryToken) {
        String key = bearerKey(request.getHeader("Authorization"));
        if (key == null && allowQueryToken) {
            key = request.getParam("access_token");
        }
        if (key == null || key.isEmpty()) {
            throw ApiError.unauthorized("missing API key: send 'Authorization: Bearer <key>'"
                    + (allowQueryToken ? " or the access_token query parameter" : ""));
        }
        byte[] presented = sha256(key);
        String tenant = null;
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.keyHash, presented)) {
                tenant = entry.tenant;
            }
        }
        if (tenant == null) {
            throw ApiError.unauthorized("invalid API key");
        }
        return tenant;
    }

    private static String bearerKey(String authorization) {
        if (authorization == null) {
            return null;
        }
        String value = authorization.trim();
        if (value.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return value.substring(7).trim();
        }
        throw ApiError.unauthorized("the Authorization header must be 'Bearer <key>'");
    }

    private static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
