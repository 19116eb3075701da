package dev.oneway.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The JobSubmission schema of the API document compiled, once, into plain checks for the hot path of POST /v1/jobs:
 * the same rules in the same order as a JSON-schema validator applies them (a field's type, enum, allOf patterns,
 * lengths, then number bounds; required before properties before unknown fields), answered with the same sentence
 * {@link SchemaMessages} makes of the validator's first error. The document stays the contract: limits and words are
 * read from it, and a schema using a keyword these checks do not know is left to the full validator
 * ({@link #compile} returns null), so a new field never gets a weaker check. SubmissionChecksTest holds the two to
 * the same answers on a corpus of bodies.
 */
final class SubmissionChecks {

    /** Keywords that only describe; they never make a value invalid. */
    private static final Set<String> ANNOTATIONS = Set.of("description", "default", "examples", "example", "title",
            "deprecated", "readOnly", "writeOnly", "$comment");
    private static final Set<String> FIELD_KEYWORDS = Set.of("type", "enum", "allOf", "pattern", "minLength",
            "maxLength", "minimum", "maximum", "multipleOf");

    private final JsonObject schema;
    private final Map<String, FieldCheck> fields;
    private final List<String> required;

    private SubmissionChecks(JsonObject schema, Map<String, FieldCheck> fields, List<String> required) {
        this.schema = schema;
        this.fields = fields;
        this.required = required;
    }

    /** The checks of an object schema, or null when it uses a keyword they do not implement. */
    static SubmissionChecks compile(JsonObject schema) {
        if (!Set.of("type", "additionalProperties", "required", "properties").containsAll(withoutAnnotations(schema))
                || !"object".equals(schema.getValue("type"))
                || !Boolean.FALSE.equals(schema.getValue("additionalProperties"))) {
            return null;
        }
        Map<String, FieldCheck> fields = new LinkedHashMap<>();
        JsonObject properties = schema.getJsonObject("properties", new JsonObject());
        for (String name : properties.fieldNames()) {
            FieldCheck check = FieldCheck.compile(name, properties.getJsonObject(name));
            if (check == null) {
                return null;
            }
            fields.put(name, check);
        }
        List<String> required = new ArrayList<>();
        schema.getJsonArray("required", new JsonArray()).forEach(r -> required.add((String) r));
        return new SubmissionChecks(schema, fields, required);
    }

    /** Null when {@code body} (decoded JSON) satisfies the schema, else the problem in the document's words. */
    String problem(Object body) {
        if (!(body instanceof JsonObject json)) {
            return body == null ? "the body is required" : "the body must be " + SchemaMessages.types(schema, "the body");
        }
        for (String name : required) {
            if (!json.containsKey(name)) {
                return name + " is required";
            }
        }
        for (Map.Entry<String, FieldCheck> field : fields.entrySet()) {
            if (json.containsKey(field.getKey())) {
                String problem = field.getValue().problem(json.getValue(field.getKey()), required.contains(field.getKey()));
                if (problem != null) {
                    return problem;
                }
            }
        }
        for (String name : json.fieldNames()) {
            if (!fields.containsKey(name)) {
                return SchemaMessages.unknownField(schema, pointerSegment(name));
            }
        }
        return null;
    }

    private static Set<String> withoutAnnotations(JsonObject schema) {
        Set<String> keys = new java.util.HashSet<>(schema.fieldNames());
        keys.removeAll(ANNOTATIONS);
        return keys;
    }

    /** A property name as the validator writes it in an instance location (JSON pointer, then %-escaped). */
    private static String pointerSegment(String name) {
        String ok = ":?#@!$&'()*+,;=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._";
        StringBuilder encoded = new StringBuilder(name.length());
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            if (ok.indexOf(b) >= 0) {
                encoded.append((char) b);
            } else if (b == '~') {
                encoded.append("~0");
            } else if (b == '/') {
                encoded.append("~1");
            } else {
                encoded.append('%').append(Integer.toHexString(Byte.toUnsignedInt(b)).toUpperCase(Locale.ROOT));
            }
        }
        return encoded.toString();
    }

    /** One property's schema: type, enum, allOf of described patterns, string lengths, number bounds. */
    private record FieldCheck(String name, JsonObject schema, List<String> types, JsonArray choices,
                              List<Pattern> patterns, List<String> patternRules, Integer minLength, Integer maxLength,
                              Pattern ownPattern, BigDecimal minimum, BigDecimal maximum, BigDecimal multipleOf) {

        static FieldCheck compile(String name, JsonObject schema) {
            if (!FIELD_KEYWORDS.containsAll(withoutAnnotations(schema))) {
                return null;
            }
            Object type = schema.getValue("type");
            List<String> types = type instanceof String t ? List.of(t)
                    : type instanceof JsonArray array ? array.stream().map(String::valueOf).toList() : null;
            if (types == null || !Set.of("string", "integer", "number", "boolean", "null").containsAll(types)) {
                return null;
            }
            List<Pattern> patterns = new ArrayList<>();
            List<String> rules = new ArrayList<>();
            for (Object part : schema.getJsonArray("allOf", new JsonArray())) {
                JsonObject sub = (JsonObject) part;
                if (!Set.of("pattern").containsAll(withoutAnnotations(sub))) {
                    return null;
                }
                patterns.add(Pattern.compile(sub.getString("pattern")));
                rules.add(sub.getString("description", "must match " + sub.getString("pattern")));
            }
            JsonArray choices = schema.getJsonArray("enum");
            if (choices != null && !choices.stream().allMatch(c -> c == null || c instanceof String)) {
                return null; // numbers in an enum compare by value, which these checks do not do
            }
            if (schema.containsKey("multipleOf") && !(schema.getValue("multipleOf") instanceof Integer)) {
                return null;
            }
            Pattern ownPattern = schema.containsKey("pattern") ? Pattern.compile(schema.getString("pattern")) : null;
            return new FieldCheck(name, schema, types, choices, patterns, rules, schema.getInteger("minLength"),
                    schema.getInteger("maxLength"), ownPattern, decimal(schema.getNumber("minimum")),
                    decimal(schema.getNumber("maximum")), decimal(schema.getNumber("multipleOf")));
        }

        String problem(Object value, boolean isRequired) {
            if (!hasType(value)) {
                return value == null && isRequired ? name + " is required"
                        : name + " must be " + SchemaMessages.types(schema, name);
            }
            if (choices != null && !choices.contains(value)) {
                return name + " must be one of " + SchemaMessages.choices(schema);
            }
            if (value instanceof String s) {
                for (int i = 0; i < patterns.size(); i++) {
                    if (!patterns.get(i).matcher(s).find()) {
                        return name + " " + patternRules.get(i);
                    }
                }
                int length = minLength == null && maxLength == null ? 0 : s.codePointCount(0, s.length());
                if ((minLength != null && length < minLength) || (maxLength != null && length > maxLength)) {
                    return name + " must be " + SchemaMessages.lengthRule(schema) + ", got " + length;
                }
                if (ownPattern != null && !ownPattern.matcher(s).find()) {
                    return name + " " + schema.getString("description", "must match " + ownPattern.pattern());
                }
            } else if (value instanceof Number n && (minimum != null || maximum != null || multipleOf != null)) {
                BigDecimal v = decimal(n);
                if ((minimum != null && v.compareTo(minimum) < 0) || (maximum != null && v.compareTo(maximum) > 0)
                        || (multipleOf != null && v.remainder(multipleOf).signum() != 0)) {
                    return name + " must be " + SchemaMessages.numberRule(schema) + ", got " + value;
                }
            }
            return null;
        }

        private boolean hasType(Object value) {
            for (String type : types) {
                boolean matches = switch (type) {
                    case "null" -> value == null;
                    case "string" -> value instanceof String;
                    case "boolean" -> value instanceof Boolean;
                    case "number" -> value instanceof Number;
                    default -> isInteger(value); // "integer": also 512.0, as JSON Schema counts it
                };
                if (matches) {
                    return true;
                }
            }
            return false;
        }

        private static boolean isInteger(Object value) {
            if (value instanceof Integer || value instanceof Long || value instanceof BigInteger
                    || value instanceof Short || value instanceof Byte) {
                return true;
            }
            if (value instanceof Double d) {
                return d % 1 == 0.0;
            }
            if (value instanceof Float f) {
                return f % 1 == 0.0f;
            }
            return value instanceof BigDecimal b && b.remainder(BigDecimal.ONE).signum() == 0;
        }

        private static BigDecimal decimal(Number n) {
            if (n == null) {
                return null;
            }
            if (n instanceof BigDecimal b) {
                return b;
            }
            if (n instanceof BigInteger b) {
                return new BigDecimal(b);
            }
            if (n instanceof Double || n instanceof Float) {
                return new BigDecimal(n.doubleValue());
            }
            return BigDecimal.valueOf(n.longValue());
        }
    }

    @Override
    public String toString() {
        return "checks of " + Objects.requireNonNull(fields.keySet());
    }
}
