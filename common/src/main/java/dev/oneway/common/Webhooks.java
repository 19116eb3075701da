package dev.oneway.common;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Webhooks as the Standard Webhooks specification (standardwebhooks.com, v1) describes them: which URLs a job may
 * name, which addresses a delivery may reach, the per-tenant signing secrets and the signature. Used by the gateway
 * at submission and by the worker's deliverer before each send (a name may resolve elsewhere by then).
 */
public final class Webhooks {
    private Webhooks() { }

    public static final int MAX_URL_CHARS = 2048;
    /** Standard Webhooks' secret prefix: the rest is the secret's bytes in base64. */
    public static final String SECRET_PREFIX = "whsec_";
    private static final String DERIVATION_LABEL = "oneway webhook secret v1";

    /** Why a job's webhook URL is refused before any address is looked at; null when its form is acceptable. */
    public static String problemWithUrl(String url) {
        if (url.length() > MAX_URL_CHARS) {
            return "webhook must be at most " + MAX_URL_CHARS + " characters";
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return "webhook is not a valid URL: " + e.getReason();
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "webhook must be an http:// or https:// URL";
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            return "webhook must name a host";
        }
        if (uri.getRawUserInfo() != null) {
            return "webhook must not carry credentials (user:password@); the signature authenticates the sender";
        }
        if (uri.getRawFragment() != null) {
            return "webhook must not have a fragment (#...)";
        }
        return null;
    }

    /** The URL's host, without IPv6 brackets. */
    public static String host(String url) {
        String host = URI.create(url).getHost();
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The URL's port, the scheme's default when it names none. */
    public static int port(String url) {
        URI uri = URI.create(url);
        return uri.getPort() >= 0 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /** Why a delivery may not go to these addresses of {@code host}; null when every one of them is public. */
    public static String problemWithAddresses(String host, InetAddress[] addresses) {
        for (InetAddress address : addresses) {
            if (!isPublic(address)) {
                return "webhook host " + host + " resolves to " + address.getHostAddress()
                        + ", a loopback, private or link-local address (ONEWAY_WEBHOOK_ALLOW_PRIVATE=true allows it)";
            }
        }
        return null;
    }

    /** Whether an address is on the public internet: not loopback, private, link-local, shared (CGNAT) or reserved. */
    public static boolean isPublic(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) {
            return false;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            return first != 0 // "this network"
                    && !(first == 100 && second >= 64 && second < 128) // 100.64.0.0/10, carrier-grade NAT
                    && !(first == 192 && second == 0 && (b[2] & 0xff) == 0) // 192.0.0.0/24, protocol assignments
                    && !(first == 198 && (second == 18 || second == 19)) // 198.18.0.0/15, benchmarking
                    && first < 240; // 240.0.0.0/4 reserved, and the broadcast address
        }
        if (a instanceof Inet6Address) {
            if ((b[0] & 0xfe) == 0xfc) {
                return false; // fc00::/7, unique local
            }
            boolean mapped = true; // ::ffff:a.b.c.d, IPv4-mapped: judged as the IPv4 address it maps
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            if (mapped && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
                try {
                    return isPublic(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
                } catch (java.net.UnknownHostException e) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Each tenant's signing secret, "whsec_" plus base64: from ONEWAY_WEBHOOK_SECRETS where it names the tenant, else
     * derived from the tenant's first API key in ONEWAY_API_KEYS (HMAC-SHA256 of a fixed label under the key), so
     * every process with the same configuration signs alike and the tenant can ask for it (GET /v1/webhook-secret).
     */
    public static Map<String, String> secrets(OnewayConfig config) {
        Map<String, String> byTenant = new LinkedHashMap<>();
        config.apiKeys().forEach((key, tenant) -> byTenant.putIfAbsent(tenant, derivedSecret(key)));
        byTenant.putAll(config.webhookSecrets());
        return byTenant;
    }

    static String derivedSecret(String apiKey) {
        return SECRET_PREFIX + Base64.getEncoder().encodeToString(
                hmac(apiKey.getBytes(StandardCharsets.UTF_8), DERIVATION_LABEL));
    }

    /** The secret's bytes; an IllegalArgumentException when it is not "whsec_" plus base64 of 24 to 64 bytes. */
    public static byte[] secretBytes(String secret) {
        if (!secret.startsWith(SECRET_PREFIX)) {
            throw new IllegalArgumentException("a webhook secret must start with " + SECRET_PREFIX);
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(secret.substring(SECRET_PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("a webhook secret must be " + SECRET_PREFIX + " followed by base64");
        }
        if (bytes.length < 24 || bytes.length > 64) {
            throw new IllegalArgumentException("a webhook secret must hold 24 to 64 bytes, got " + bytes.length);
        }
        return bytes;
    }

    /**
     * The webhook-signature header: "v1," plus the base64 HMAC-SHA256, under the secret's bytes, of
     * "{webhook-id}.{webhook-timestamp}.{body}".
     */
    public static String signature(String secret, String webhookId, long timestampSeconds, String body) {
        return "v1," + Base64.getEncoder().encodeToString(
                hmac(secretBytes(secret), webhookId + "." + timestampSeconds + "." + body));
    }

    private static byte[] hmac(byte[] key, String content) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(content.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java runtime has HmacSHA256", e);
        }
    }
}
