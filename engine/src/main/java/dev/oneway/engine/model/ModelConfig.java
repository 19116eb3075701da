package dev.oneway.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.oneway.engine.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * One JSON config file of a model folder with typed getters whose errors name the file, the key and
 * what was expected. Every architecture size comes through here.
 */
public final class ModelConfig {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final JsonNode root;

    private ModelConfig(String name, JsonNode root) {
        this.name = name;
        this.root = root;
    }

    /** Reads {@code modelDir/relative}; {@code relative} is how errors name the file. */
    public static ModelConfig read(Path modelDir, String relative) {
        Path file = modelDir.resolve(relative);
        if (!Files.isRegularFile(file)) {
            throw new ModelException(relative + ": file not found in model folder " + modelDir);
        }
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) {
                throw new ModelException(relative + ": expected a JSON object");
            }
            return new ModelConfig(relative, root);
        } catch (IOException e) {
            throw new ModelException(relative + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    public String name() {
        return name;
    }

    public boolean has(String key) {
        return root.hasNonNull(key);
    }

    public int getInt(String key) {
        JsonNode node = require(key);
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
            throw invalid(key, "an integer", node);
        }
        return node.asInt();
    }

    public int getInt(String key, int fallback) {
        return has(key) ? getInt(key) : fallback;
    }

    public double getDouble(String key) {
        JsonNode node = require(key);
        if (!node.isNumber()) {
            throw invalid(key, "a number", node);
        }
        return node.asDouble();
    }

    public double getDouble(String key, double fallback) {
        return has(key) ? getDouble(key) : fallback;
    }

    public boolean getBoolean(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonNode node = root.get(key);
        if (!node.isBoolean()) {
            throw invalid(key, "true or false", node);
        }
        return node.asBoolean();
    }

    public String getString(String key) {
        JsonNode node = require(key);
        if (!node.isTextual()) {
            throw invalid(key, "a string", node);
        }
        return node.asText();
    }

    public String getString(String key, String fallback) {
        return has(key) ? getString(key) : fallback;
    }

    /** A string that must be one of the allowed values (for anything the engine implements only some of). */
    public String getChoice(String key, String fallback, String... allowed) {
        String value = getString(key, fallback);
        if (!Arrays.asList(allowed).contains(value)) {
            throw new ModelException(name + ": '" + key + "' is " + value + "; supported: " + String.join(", ", allowed));
        }
        return value;
    }

    public List<String> getStrings(String key) {
        JsonNode node = require(key);
        if (!node.isArray()) {
            throw invalid(key, "a list of strings", node);
        }
        String[] out = new String[node.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = node.get(i).asText();
        }
        return List.of(out);
    }

    public int[] getInts(String key) {
        JsonNode node = require(key);
        if (!node.isArray()) {
            throw invalid(key, "a list of integers", node);
        }
        int[] out = new int[node.size()];
        for (int i = 0; i < out.length; i++) {
            if (!node.get(i).isIntegralNumber()) {
                throw invalid(key, "a list of integers", node);
            }
            out[i] = node.get(i).asInt();
        }
        return out;
    }

    /** An int or a per-block list of ints (diffusers allows both for head counts), expanded to {@code blocks}. */
    public int[] getIntOrList(String key, int blocks) {
        JsonNode node = require(key);
        if (node.isIntegralNumber()) {
            int[] out = new int[blocks];
            Arrays.fill(out, node.asInt());
            return out;
        }
        int[] list = getInts(key);
        if (list.length != blocks) {
            throw new ModelException(name + ": '" + key + "' lists " + list.length + " values, expected one per block ("
                    + blocks + ")");
        }
        return list;
    }

    /** Fails unless the key is absent, null, or equal to the one value the engine supports. */
    public void requireDefault(String key, Object supported) {
        if (!has(key)) {
            return;
        }
        JsonNode node = root.get(key);
        String actual = node.isTextual() ? node.asText() : node.toString();
        if (!actual.equals(String.valueOf(supported))) {
            throw new ModelException(name + ": '" + key + "' is " + actual + "; the engine supports only " + supported);
        }
    }

    public ModelException invalid(String key, String expected, Object actual) {
        return new ModelException(name + ": '" + key + "' must be " + expected + ", got " + actual);
    }

    private JsonNode require(String key) {
        if (!has(key)) {
            throw new ModelException(name + ": missing key '" + key + "'");
        }
        return root.get(key);
    }
}
