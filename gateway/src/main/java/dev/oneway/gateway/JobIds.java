package dev.oneway.gateway;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/** Job ids: random UUIDs, or, for an Idempotency-Key, UUIDs every gateway derives alike. */
final class JobIds {

    private static final Pattern UUID_FORM =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private JobIds() { }

    static String random() {
        return UUID.randomUUID().toString();
    }

    /**
     * The id of a tenant's job for one Idempotency-Key. Deriving it (rather than remembering it) lets any gateway,
     * restarted or not, find the job on the log alone.
     */
    static String idempotent(String tenant, String idempotencyKey) {
        byte[] hash;
        try {
            hash = MessageDigest.getInstance("SHA-256").digest(
                    ("oneway-job\n" + tenant + "\n" + 0 + "\n" + idempotencyKey).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        hash[6] = (byte) ((hash[6] & 0x0f) | 0x80); // version 8: custom (RFC 9562)
        hash[8] = (byte) ((hash[8] & 0x3f) | 0x80); // RFC 4122 variant
        ByteBuffer bytes = ByteBuffer.wrap(hash, 0, 16);
        return new UUID(bytes.getLong(), bytes.getLong()).toString();
    }

    /** The lower-case form of a well-formed id, or null. */
    static String canonical(String id) {
        return id != null && UUID_FORM.matcher(id).matches() ? id.toLowerCase(Locale.ROOT) : null;
    }

    /** A path's id, or a 400 naming it. */
    static String parse(String id) {
        String canonical = canonical(id);
        if (canonical == null) {
            throw ApiError.invalid("job ids are UUIDs, got '" + abbreviate(id) + "'");
        }
        return canonical;
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
