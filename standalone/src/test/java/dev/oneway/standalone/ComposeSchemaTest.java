package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml and docker-compose.cpu.yml against the Compose Specification's JSON schema (the one Docker
 * Compose v2 checks files with; a copy in src/test/resources/compose-spec, see its README): each file alone and
 * the two merged as {@code docker compose -f docker-compose.yml -f docker-compose.cpu.yml} merges them.
 */
class ComposeSchemaTest {

    static Validator compose;
    static Path root;

    @BeforeAll
    static void readSchema() throws IOException {
        try (InputStream in = ComposeSchemaTest.class.getResourceAsStream("/compose-spec/compose-spec.json")) {
            JsonObject schema = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            compose = Validator.create(JsonSchema.of(schema), new JsonSchemaOptions()
                    .setDraft(Draft.DRAFT7)
                    .setBaseUri("https://github.com/compose-spec/compose-spec/")
                    .setOutputFormat(OutputFormat.Basic));
        }
        root = DeploymentFiles.root();
    }

    @Test
    void theComposeFilesFollowTheComposeSpecification() {
        DeploymentFiles.Yaml base = DeploymentFiles.readSingleYaml(root.resolve("docker-compose.yml"));
        DeploymentFiles.Yaml cpu = DeploymentFiles.readSingleYaml(root.resolve("docker-compose.cpu.yml"));

        assertEquals(List.of(), problems(base.tree()), "docker-compose.yml");
        assertEquals(List.of(), problems(cpu.tree()), "docker-compose.cpu.yml");
        assertEquals(List.of(), problems(DeploymentFiles.composeMerge(base.tree(), cpu)), "the two merged");
    }

    @Test
    void theSchemaRejectsAMisspelledServiceField() {
        JsonNode file = DeploymentFiles.readSingleYaml(root.resolve("docker-compose.yml")).tree().deepCopy();
        ((ObjectNode) file.get("services").get("gateway")).putArray("port").add("8080:8080");

        List<String> problems = problems(file);

        assertFalse(problems.isEmpty(), "`port` instead of `ports` is not a Compose field");
        assertTrue(problems.stream().anyMatch(p -> p.contains("/services/gateway")), problems.toString());
    }

    @Test
    void theComposeVersionTheReadmeNamesIsTheOneTheFilesNeed() throws IOException {
        String readme = Files.readString(root.resolve("README.md"));
        String cpu = Files.readString(root.resolve("docker-compose.cpu.yml"));

        // !reset, the only feature beyond the Compose Specification's schema that the files use, came with Compose 2.24.
        assertTrue(cpu.contains("!reset"), "if the override no longer needs !reset, README need not ask for Compose 2.24");
        assertTrue(readme.contains("Docker Compose 2.24+"), "README names the Compose version the files need");
    }

    private static List<String> problems(JsonNode file) {
        OutputUnit result = compose.validate(new JsonObject(file.toString()));
        if (result.getValid()) {
            return List.of();
        }
        return result.getErrors() == null ? List.of(String.valueOf(result.getError()))
                : result.getErrors().stream()
                        .map(e -> e.getInstanceLocation() + ": " + e.getError())
                        .collect(Collectors.toList());
    }
}
