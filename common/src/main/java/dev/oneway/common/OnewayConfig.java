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

    /** Signing secret by tenant, from ONEWAY_WEBHOOK_SECRETS ("tenant=whsec_...,tenant=whsec_..."). */
    public Map<String, String> webhookSecrets() {
        Map<String, String> byTenant = new LinkedHashMap<>();
        String raw = get(Setting.WEBHOOK_SECRETS);
        if (raw.isEmpty()) {
            return byTenant;
        }
        for (String pair : raw.split(",")) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || eq == pair.length() - 1) {
                throw new IllegalArgumentException(Setting.WEBHOOK_SECRETS.envName()
                        + " must be comma-separated tenant=whsec_... pairs, got an entry without tenant or secret");
            }
            String tenant = pair.substring(0, eq).trim();
            String secret = pair.substring(eq + 1).trim();
            try {
                Webhooks.secretBytes(secret);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(Setting.WEBHOOK_SECRETS.envName() + ": the secret of tenant " + tenant
                        + " is not valid: " + e.getMessage());
            }
            if (byTenant.put(tenant, secret) != null) {
                throw new IllegalArgumentException(Setting.WEBHOOK_SECRETS.envName() + " names tenant " + tenant + " twice");
            }
        }
        return byTenant;
    }

    /** ONEWAY_WEBHOOK_ALLOW_PRIVATE. */
    public boolean webhookAllowPrivate() {
        String v = get(Setting.WEBHOOK_ALLOW_PRIVATE).toLowerCase(java.util.Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(Setting.WEBHOOK_ALLOW_PRIVATE.envName() + " must be true or false, got '"
                    + get(Setting.WEBHOOK_ALLOW_PRIVATE) + "'");
        }
        return v.equals("true");
    }

    /** A model name: lower-case letters, digits, '.', '_' and '-', as a Kafka topic name allows. */
    private static final java.util.regex.Pattern MODEL_NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    /** The generated models, for a deployment that names none (tests, the quick start). */
    public static final String TINY_MODELS = "tiny-sd15=tiny:sd15,tiny-sd21=tiny:sd21";

    /**
     * The models this deployment serves, name to source, in order (the first is the default unless
     * ONEWAY_DEFAULT_MODEL says otherwise): ONEWAY_MODELS, else ONEWAY_MODEL_DIR under its folder's name, else the
     * two generated tiny models. A worker loads each source; a gateway uses only the names.
     */
    public Map<String, String> models() {
        String raw = get(Setting.MODELS);
        if (raw.isEmpty()) {
            String dir = get(Setting.MODEL_DIR);
            if (dir.isEmpty()) {
                raw = TINY_MODELS;
            } else {
                java.nio.file.Path name = java.nio.file.Path.of(dir).toAbsolutePath().normalize().getFileName();
                raw = (name == null ? "model" : name.toString().toLowerCase(java.util.Locale.ROOT)) + "=" + dir;
            }
        }
        Map<String, String> models = new LinkedHashMap<>();
        for (String entry : raw.split(",")) {
            String[] parts = entry.split("=", 2);
            String name = parts[0].trim();
            String source = parts.length < 2 ? "" : parts[1].trim();
            if (!MODEL_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(Setting.MODELS.envName() + ": a model name is lower-case letters, digits, "
                        + "'.', '_' or '-' (at most 64), got '" + name + "'" + (get(Setting.MODELS).isEmpty()
                        ? " (from the folder name of " + Setting.MODEL_DIR.envName() + "; set " + Setting.MODELS.envName()
                        + "=<name>=<folder> instead)" : ""));
            }
            if (models.put(name, source) != null) {
                throw new IllegalArgumentException(Setting.MODELS.envName() + " names the model '" + name + "' twice");
            }
        }
        return models;
    }

    /** The model of a job that names none: ONEWAY_DEFAULT_MODEL, else the first of {@link #models()}. */
    public String defaultModel() {
        String named = get(Setting.DEFAULT_MODEL);
        Map<String, String> models = models();
        if (named.isEmpty()) {
            return models.keySet().iterator().next();
        }
        if (!models.containsKey(named)) {
            throw new IllegalArgumentException(Setting.DEFAULT_MODEL.envName() + "=" + named + " is not one of the models "
                    + models.keySet() + " (" + Setting.MODELS.envName() + ")");
        }
        return named;
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
        httpInstances();
        webhookSecrets();
        webhookAllowPrivate();
        batchPolicyMeasured();
        maxBatchPixels();
        defaultModel();
        for (String model : models().keySet()) {
            String topic = Topics.jobs(this, model);
            if (topic.equals(get(Setting.DEAD_LETTER_TOPIC)) || topic.equals(get(Setting.EVENTS_TOPIC))
                    || topic.equals(get(Setting.MODELS_TOPIC))) {
                throw new IllegalArgumentException("the model name '" + model + "' would make its jobs topic " + topic
                        + ", which Oneway uses for something else; choose another name (" + Setting.MODELS.envName() + ")");
            }
        }
    }

    /** ONEWAY_MAX_BATCH_PIXELS: empty for the device's default (empty here), else a limit (0: none). */
    public java.util.OptionalLong maxBatchPixels() {
        String value = get(Setting.MAX_BATCH_PIXELS).trim();
        if (value.isEmpty()) {
            return java.util.OptionalLong.empty();
        }
        try {
            long pixels = Long.parseLong(value);
            if (pixels >= 0) {
                return java.util.OptionalLong.of(pixels);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(Setting.MAX_BATCH_PIXELS.envName() + " must be empty (the device's default), 0 "
                + "(no limit) or a number of pixels, got '" + value + "'");
    }

    /** ONEWAY_HTTP_INSTANCES: a positive number, or auto for one per CPU core. */
    public int httpInstances() {
        String value = get(Setting.HTTP_INSTANCES).trim();
        if (value.equalsIgnoreCase("auto")) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (!isInteger(value) || value.length() > 4 || Integer.parseInt(value) == 0) {
            throw new IllegalArgumentException(Setting.HTTP_INSTANCES.envName() + " must be auto or a positive number, got '"
                    + value + "'");
        }
        return Integer.parseInt(value);
    }

    private static boolean isInteger(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    @Override
    public String toString() {
        Map<String, String> shown = new LinkedHashMap<>();
        values.forEach((k, v) -> shown.put(k.envName(), k == Setting.API_KEYS || k == Setting.S3_SECRET_KEY || k == Setting.WEBHOOK_SECRETS ? "***" : v));
        return shown.toString();
    }
}
