package dev.oneway.common;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The one configuration reader: ONEWAY_* environment variables over documented defaults
 * ({@link Setting}). Tests and the standalone build one from a map of overrides.
 */
public final class OnewayConfig {

    /** Settings that are TCP ports, where 0 means any free port. */
    private static final Set<Setting> PORTS = EnumSet.of(Setting.HTTP_PORT, Setting.WORKER_HTTP_PORT,
            Setting.EMBEDDED_KAFKA_PORT, Setting.EMBEDDED_S3_PORT);

    private final Map<Setting, String> values;

    private OnewayConfig(Map<Setting, String> values) {
        this.values = values;
    }

    public static OnewayConfig fromEnv() {
        return from(System.getenv());
    }

    /** Reads every setting from a map keyed by environment variable name; absent keys take the default. */
    public static OnewayConfig from(Map<String, String> env) {
        Map<Setting, String> values = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            values.put(s, env.getOrDefault(s.envName(), s.defaultValue()).trim());
        }
        OnewayConfig config = new OnewayConfig(values);
        config.validate();
        return config;
    }

    /** A copy with some settings replaced. */
    public OnewayConfig with(Setting setting, Object value) {
        Map<Setting, String> copy = new EnumMap<>(values);
        copy.put(setting, String.valueOf(value));
        OnewayConfig config = new OnewayConfig(copy);
        config.validate();
        return config;
    }

    public String get(Setting setting) {
        return values.get(setting);
    }

    public int getInt(Setting setting) {
        String raw = values.get(setting);
        try {
            return Integer.parseInt(raw);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(setting.envName() + " must be an integer, got '" + raw + "'");
        }
    }

    /** Tenant by API key, from ONEWAY_API_KEYS ("tenant:key,tenant:key"). */
    public Map<String, String> apiKeys() {
        Map<String, String> tenantByKey = new LinkedHashMap<>();
        String raw = get(Setting.API_KEYS);
        if (raw.isEmpty()) {
            return tenantByKey;
        }
        for (String pair : raw.split(",")) {
            int colon = pair.indexOf(':');
            if (colon <= 0 || colon == pair.length() - 1) {
                throw new IllegalArgumentException(
                        "ONEWAY_API_KEYS must be comma-separated tenant:key pairs, got an entry without tenant or key");
            }
            String tenant = pair.substring(0, colon).trim();
            String key = pair.substring(colon + 1).trim();
            if (tenantByKey.put(key, tenant) != null) {
                throw new IllegalArgumentException("ONEWAY_API_KEYS lists the same key twice");
            }
        }
        return tenantByKey;
    }

    /** ONEWAY_BATCH_INVARIANT: null for auto (the engine decides by device), else the choice. */
    public Boolean batchInvariant() {
        String v = get(Setting.BATCH_INVARIANT).trim().toLowerCase(java.util.Locale.ROOT);
        switch (v) {
            case "auto":
                return null;
            case "true":
                return Boolean.TRUE;
            case "false":
                return Boolean.FALSE;
            default:
                throw new IllegalArgumentException(Setting.BATCH_INVARIANT.envName() + " must be auto, true or false, got '"
                        + get(Setting.BATCH_INVARIANT) + "'");
        }
    }

    /** ONEWAY_BATCH_POLICY: true when workers form the batch size they measured fastest, false for fixed batching. */
    public boolean batchPolicyMeasured() {
        String v = get(Setting.BATCH_POLICY).toLowerCase(java.util.Locale.ROOT);
        return switch (v) {
            case "measured" -> true;
            case "fixed" -> false;
            default -> throw new IllegalArgumentException(Setting.BATCH_POLICY.envName() + " must be measured or fixed, got '"
                    + get(Setting.BATCH_POLICY) + "'");
        };
    }

    private void validate() {
        for (Setting s : Setting.values()) {
            if (isInteger(s.defaultValue())) {
                int v = getInt(s);
                if (PORTS.contains(s)) {
                    if (v > 65_535) {
                        throw new IllegalArgumentException(s.envName() + " must be a port from 0 (any free port) to 65535, got " + v);
                    }
                } else if (v <= 0) {
                    throw new IllegalArgumentException(s.envName() + " must be positive, got " + v);
                }
            }
        }
        apiKeys();
        batchInvariant();
        batchPolicyMeasured();
    }

    private static boolean isInteger(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    @Override
    public String toString() {
        Map<String, String> shown = new LinkedHashMap<>();
        values.forEach((k, v) -> shown.put(k.envName(), k == Setting.API_KEYS || k == Setting.S3_SECRET_KEY ? "***" : v));
        return shown.toString();
    }
}
