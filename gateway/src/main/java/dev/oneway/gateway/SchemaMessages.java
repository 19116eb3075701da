package dev.oneway.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a JSON schema validation failure into one sentence that names the field and the rule, with the
 * rule read from the schema itself ("width must be a multiple of 64 from 64 to 1024, got 500"), so the
 * message changes with the document. A {@code pattern} cannot be put in words, so the schema that holds
 * it says in its {@code description} what it requires ("must not be blank").
 */
final class SchemaMessages {

    /** Keywords whose errors only say that a subschema failed; the subschema's own error follows them. */
    private static final Set<String> WRAPPERS = Set.of("properties", "allOf", "anyOf", "oneOf", "$ref", "items",
            "prefixItems", "patternProperties", "not", "if", "then", "else", "dependentSchemas");

    private SchemaMessages() { }

    /**
     * @param result   a failed validation of {@code instance} against {@code schema}
     * @param schema   the schema as the document writes it (an object schema, or one of a single value)
     * @param name     what to call the instance itself, e.g. "the body" or a header's name
     */
    static String describe(OutputUnit result, JsonObject schema, Object instance, String name) {
        List<OutputUnit> errors = result.getErrors() == null ? List.of(result) : result.getErrors();
        OutputUnit error = errors.stream().filter(e -> !WRAPPERS.contains(keyword(e))).findFirst().orElse(errors.get(0));
        String keyword = keyword(error);
        String field = field(error);
        if (field == null) {
            return describeValue(keyword, error, schema, instance, name, true);
        }
        JsonObject properties = schema.getJsonObject("properties", new JsonObject());
        JsonObject fieldSchema = properties.getJsonObject(field, new JsonObject());
        Object value = instance instanceof JsonObject json ? json.getValue(field) : null;
        return describeValue(keyword, error, fieldSchema, value, field, schema.getJsonArray("required", new JsonArray()).contains(field));
    }

    private static String describeValue(String keyword, OutputUnit error, JsonObject schema, Object value, String name,
                                        boolean required) {
        return switch (keyword) {
            case "required" -> missing(schema, value) + " is required";
            case "additionalProperties" -> unknownField(schema, lastSegment(error.getInstanceLocation()));
            case "type" -> value == null && required ? name + " is required" : name + " must be " + types(schema, name);
            case "minLength", "maxLength" -> name + " must be " + lengthRule(schema) + ", got " + length(value);
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf" ->
                    name + " must be " + numberRule(schema) + ", got " + value;
            case "enum", "const" -> name + " must be one of " + choices(schema);
            case "pattern", "format" -> name + " " + describedRule(schema, error);
            default -> name + " is not valid (" + error.getError() + ")";
        };
    }

    static String unknownField(JsonObject schema, String field) {
        return "unknown field '" + field + "'; allowed: "
                + String.join(", ", schema.getJsonObject("properties", new JsonObject()).fieldNames());
    }

    /** The name of the first required property the instance lacks. */
    private static String missing(JsonObject schema, Object value) {
        JsonObject json = value instanceof JsonObject object ? object : new JsonObject();
        return schema.getJsonArray("required", new JsonArray()).stream().map(String::valueOf)
                .filter(p -> !json.containsKey(p)).findFirst().orElse("a field");
    }

    static String types(JsonObject schema, String name) {
        Object type = schema.getValue("type");
        List<String> types = type instanceof JsonArray array
                ? array.stream().map(String::valueOf).filter(t -> !t.equals("null")).toList()
                : List.of(String.valueOf(type));
        String words = types.stream().map(t -> switch (t) {
            case "object" -> "a JSON object";
            case "array" -> "an array";
            case "integer" -> "an integer";
            default -> "a " + t;
        }).collect(Collectors.joining(" or "));
        if (types.equals(List.of("object")) && schema.getJsonArray("required") != null) {
            words += " with at least " + schema.getJsonArray("required").stream()
                    .map(p -> "\"" + p + "\"").collect(Collectors.joining(", "));
        }
        return words;
    }

    static String lengthRule(JsonObject schema) {
        Integer min = schema.getInteger("minLength");
        Integer max = schema.getInteger("maxLength");
        if (min != null && max != null) {
            return min + " to " + max + " characters";
        }
        return min != null ? "at least " + min + " characters" : "at most " + max + " characters";
    }

    private static int length(Object value) {
        String s = String.valueOf(value);
        return s.codePointCount(0, s.length());
    }

    static String numberRule(JsonObject schema) {
        Number min = schema.getNumber("minimum");
        Number max = schema.getNumber("maximum");
        Number multiple = schema.getNumber("multipleOf");
        String range = min != null && max != null ? "from " + min + " to " + max
                : min != null ? "at least " + min
                : max != null ? "at most " + max
                : "";
        if (multiple == null) {
            return range;
        }
        return "a multiple of " + multiple + (range.isEmpty() ? "" : " " + range);
    }

    static String choices(JsonObject schema) {
        JsonArray values = schema.containsKey("enum") ? schema.getJsonArray("enum") : new JsonArray().add(schema.getValue("const"));
        return values.stream().filter(Objects::nonNull).map(String::valueOf).collect(Collectors.joining(", "));
    }

    /** The description of the (sub)schema that holds the failing keyword, e.g. allOf/1 of the field. */
    private static String describedRule(JsonObject schema, OutputUnit error) {
        String[] path = error.getKeywordLocation().split("/");
        int n = path.length;
        JsonObject holder = schema;
        if (n >= 3 && (path[n - 3].equals("allOf") || path[n - 3].equals("anyOf"))) {
            holder = schema.getJsonArray(path[n - 3]).getJsonObject(Integer.parseInt(path[n - 2]));
        }
        String description = holder.getString("description");
        return description != null ? description : "must match " + holder.getString(lastSegment(error.getKeywordLocation()));
    }

    private static String keyword(OutputUnit error) {
        return lastSegment(error.getKeywordLocation());
    }

    /** The top-level property an error is about, or null when it is about the instance as a whole. */
    private static String field(OutputUnit error) {
        String location = error.getInstanceLocation();
        if (location == null || location.equals("#") || location.isEmpty() || keyword(error).equals("additionalProperties")) {
            return null;
        }
        String[] parts = location.replaceFirst("^#?/", "").split("/");
        return parts[0].replace("~1", "/").replace("~0", "~");
    }

    private static String lastSegment(String pointer) {
        return pointer == null ? "" : pointer.substring(pointer.lastIndexOf('/') + 1);
    }
}
