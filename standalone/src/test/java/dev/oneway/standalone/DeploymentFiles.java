package dev.oneway.standalone;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The deployment files as data: docker-compose.yml and its overrides (with Compose's merge), the k8s/ manifests
 * and the Dockerfiles, read the way Docker and Kubernetes read them, so tests can hold them against the code.
 */
final class DeploymentFiles {
    private DeploymentFiles() { }

    private static final YAMLFactory YAML = new YAMLFactory();
    private static final ObjectMapper MAPPER = new ObjectMapper(YAML);
    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:?[-+?])?([^}]*)}");

    /** The repository root: the nearest folder above the working directory that holds docker-compose.yml. */
    static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("docker-compose.yml")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no docker-compose.yml above " + Path.of("").toAbsolutePath());
    }

    // ---------------------------------------------------------------- YAML

    /** A YAML document as a tree, with the pointers of nodes tagged !reset (a Compose override directive). */
    record Yaml(JsonNode tree, Set<String> resetPointers) { }

    /** Every document of a (multi-document) YAML file, empty documents left out. */
    static List<Yaml> readYaml(Path file) {
        List<Yaml> documents = new ArrayList<>();
        try (YAMLParser parser = YAML.createParser(file.toFile())) {
            while (parser.nextToken() != null) {
                Set<String> resets = new HashSet<>();
                JsonNode tree = readNode(parser, "", resets);
                if (tree != null && !tree.isNull()) {
                    documents.add(new Yaml(tree, resets));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return documents;
    }

    static Yaml readSingleYaml(Path file) {
        List<Yaml> documents = readYaml(file);
        if (documents.size() != 1) {
            throw new IllegalStateException(file + " holds " + documents.size() + " documents, expected one");
        }
        return documents.get(0);
    }

    /** Reads the value at the parser's current token; Jackson reports a node's YAML tag as its type id. */
    private static JsonNode readNode(YAMLParser parser, String pointer, Set<String> resets) throws IOException {
        if ("reset".equals(parser.getTypeId())) {
            resets.add(pointer);
        }
        JsonToken token = parser.currentToken();
        if (token == JsonToken.START_OBJECT) {
            ObjectNode object = JsonNodeFactory.instance.objectNode();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                parser.nextToken();
                object.set(name, readNode(parser, pointer + "/" + escape(name), resets));
            }
            return object;
        }
        if (token == JsonToken.START_ARRAY) {
            ArrayNode array = JsonNodeFactory.instance.arrayNode();
            while (parser.nextToken() != JsonToken.END_ARRAY) {
                array.add(readNode(parser, pointer + "/" + array.size(), resets));
            }
            return array;
        }
        return MAPPER.readTree(parser);
    }

    private static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }

    // ---------------------------------------------------------------- Compose

    /**
     * Compose's merge of an override file into a base file: mappings merge key by key, scalars are replaced,
     * sequences are appended to, and a node tagged !reset replaces what the base had.
     */
    static JsonNode composeMerge(JsonNode base, Yaml override) {
        return merge(base.deepCopy(), override.tree(), "", override.resetPointers());
    }

    private static JsonNode merge(JsonNode base, JsonNode override, String pointer, Set<String> resets) {
        if (resets.contains(pointer) || base == null || base.isNull()) {
            return override.deepCopy();
        }
        if (base.isObject() && override.isObject()) {
            ObjectNode merged = (ObjectNode) base;
            override.fields().forEachRemaining(e -> merged.set(e.getKey(),
                    merge(merged.get(e.getKey()), e.getValue(), pointer + "/" + escape(e.getKey()), resets)));
            return merged;
        }
        if (base.isArray() && override.isArray()) {
            ArrayNode merged = (ArrayNode) base;
            override.forEach(item -> merged.add(item.deepCopy()));
            return merged;
        }
        return override.deepCopy();
    }

    /** A Compose value with ${VAR:-default} and ${VAR-default} read as if VAR were unset. */
    static String interpolate(String value) {
        Matcher m = INTERPOLATION.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String operator = m.group(2);
            String replacement = operator != null && operator.endsWith("-") ? m.group(3) : "";
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A service's environment (mapping or list form), interpolated. */
    static Map<String, String> composeEnvironment(JsonNode service) {
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode environment = service.path("environment");
        if (environment.isObject()) {
            environment.fields().forEachRemaining(e -> env.put(e.getKey(), interpolate(e.getValue().asText())));
        } else {
            environment.forEach(item -> {
                String[] pair = item.asText().split("=", 2);
                env.put(pair[0], pair.length == 2 ? interpolate(pair[1]) : "");
            });
        }
        return env;
    }

    // ---------------------------------------------------------------- Kubernetes

    /** Every document of every k8s/*.yaml file. */
    static List<JsonNode> kubernetesObjects() {
        try (Stream<Path> files = Files.list(root().resolve("k8s"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".yaml"))
                    .sorted()
                    .flatMap(f -> readYaml(f).stream().map(Yaml::tree))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode kubernetesObject(List<JsonNode> objects, String kind, String name) {
        return objects.stream()
                .filter(o -> kind.equals(o.path("kind").asText()) && name.equals(o.path("metadata").path("name").asText()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " in k8s/"));
    }

    static JsonNode container(JsonNode deployment, String name) {
        for (JsonNode c : deployment.path("spec").path("template").path("spec").path("containers")) {
            if (name.equals(c.path("name").asText())) {
                return c;
            }
        }
        throw new AssertionError("no container " + name + " in " + deployment.path("metadata").path("name"));
    }

    /**
     * The ONEWAY_* environment a container gets, as Kubernetes builds it: envFrom sources in order (ConfigMap
     * data, Secret stringData/data), then env, which wins.
     */
    static Map<String, String> containerEnvironment(List<JsonNode> objects, JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode source : container.path("envFrom")) {
            if (source.has("configMapRef")) {
                JsonNode map = kubernetesObject(objects, "ConfigMap", source.path("configMapRef").path("name").asText());
                map.path("data").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
            } else if (source.has("secretRef")) {
                JsonNode secret = kubernetesObject(objects, "Secret", source.path("secretRef").path("name").asText());
                secret.path("stringData").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
                secret.path("data").fields().forEachRemaining(e -> env.put(e.getKey(),
                        new String(java.util.Base64.getDecoder().decode(e.getValue().asText()))));
            }
        }
        for (JsonNode variable : container.path("env")) {
            env.put(variable.path("name").asText(), variable.path("value").asText());
        }
        return env;
    }

    /** A probe's or Service's port: a number, or the name of one of the container's ports. */
    static int containerPort(JsonNode container, JsonNode port) {
        if (port.isInt() || port.asText().matches("\\d+")) {
            return port.asInt();
        }
        for (JsonNode p : container.path("ports")) {
            if (port.asText().equals(p.path("name").asText())) {
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("container " + container.path("name") + " has no port named " + port.asText());
    }

    // ---------------------------------------------------------------- configuration

    /** What Oneway would run with under these variables (OnewayConfig also rejects malformed values). */
    static OnewayConfig config(Map<String, String> env) {
        return OnewayConfig.from(env);
    }

    static Set<String> settingNames() {
        Set<String> names = new HashSet<>();
        for (Setting s : Setting.values()) {
            names.add(s.envName());
        }
        return names;
    }

    // ---------------------------------------------------------------- Dockerfiles

    /** One stage of a Dockerfile: its name (or null), base image, and instructions with continuations joined. */
    record Stage(String name, String from, List<String> instructions) {
        List<String> arguments(String instruction) {
            return instructions.stream()
                    .filter(i -> i.regionMatches(true, 0, instruction + " ", 0, instruction.length() + 1))
                    .map(i -> i.substring(instruction.length() + 1).trim())
                    .toList();
        }

        /** ENV NAME=value pairs of this stage (values unexpanded). */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            for (String args : arguments("ENV")) {
                for (String pair : args.split("\\s+")) {
                    String[] kv = pair.split("=", 2);
                    env.put(kv[0], kv.length == 2 ? kv[1] : "");
                }
            }
            return env;
        }

        List<Integer> exposedPorts() {
            return arguments("EXPOSE").stream().flatMap(a -> Stream.of(a.split("\\s+")))
                    .map(p -> Integer.parseInt(p.replace("/tcp", ""))).toList();
        }

        /** ENTRYPOINT in exec (JSON) form. */
        List<String> entrypoint() {
            List<String> forms = arguments("ENTRYPOINT");
            if (forms.isEmpty()) {
                return List.of();
            }
            try {
                List<String> argv = new ArrayList<>();
                new ObjectMapper().readTree(forms.get(forms.size() - 1)).forEach(a -> argv.add(a.asText()));
                return argv;
            } catch (IOException e) {
                throw new AssertionError("ENTRYPOINT is not in exec form: " + forms.get(forms.size() - 1));
            }
        }
    }

    static List<Stage> dockerfile(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : lines) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
                continue;
            }
            boolean continues = trimmed.endsWith("\\");
            current.append(continues ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
            if (!continues) {
                instructions.add(current.toString().trim().replaceAll("\\s+", " "));
                current.setLength(0);
            }
        }
        List<Stage> stages = new ArrayList<>();
        for (String instruction : instructions) {
            if (instruction.regionMatches(true, 0, "FROM ", 0, 5)) {
                String[] words = instruction.split(" ");
                String name = words.length >= 4 && words[2].equalsIgnoreCase("AS") ? words[3] : null;
                stages.add(new Stage(name, words[1], new ArrayList<>()));
            } else if (!stages.isEmpty()) {
                stages.get(stages.size() - 1).instructions().add(instruction);
            }
        }
        return stages;
    }

    static Optional<Stage> stage(List<Stage> stages, String name) {
        return stages.stream().filter(s -> name.equals(s.name())).findFirst();
    }

    // ---------------------------------------------------------------- durations

    /** A Compose duration such as 330s, 5m30s or 1m. */
    static long seconds(String duration) {
        Matcher m = Pattern.compile("(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?").matcher(duration.trim());
        if (duration.isBlank() || !m.matches()) {
            throw new AssertionError("not a duration: " + duration);
        }
        long total = 0;
        long[] unit = {3600, 60, 1};
        for (int i = 0; i < 3; i++) {
            if (m.group(i + 1) != null) {
                total += Long.parseLong(m.group(i + 1)) * unit[i];
            }
        }
        return total;
    }
}
