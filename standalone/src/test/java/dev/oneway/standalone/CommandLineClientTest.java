package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.oneway.cli.OnewayCli;
import dev.oneway.common.Setting;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `oneway generate` and `oneway status` against a whole system, as a person runs them in a shell. */
class CommandLineClientTest {

    static final String KEY = "cli-key";

    @TempDir
    static Path dataDir;
    @TempDir
    Path workDir;
    static OnewaySystem system;

    @BeforeAll
    static void start() {
        system = OnewaySystem.builder()
                .dataDir(dataDir)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.API_KEYS, "shell:" + KEY)
                .start();
    }

    @AfterAll
    static void stop() {
        if (system != null) {
            system.close();
        }
    }

    /** What one run of the command printed and returned. */
    record Run(int exit, String out, String err) { }

    static Run oneway(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = new OnewayCli(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env).run(args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void generateSavesAPngOfTheRequestedSizeAndStatusSaysItSucceeded() throws Exception {
        int width = system.modelDefaults().sizeMultiple();
        int height = system.modelDefaults().height();
        Path png = workDir.resolve("fox.png");

        Run generate = oneway(Map.of("ONEWAY_KEY", KEY), "generate", "a red fox", "-o", png.toString(),
                "--seed", "7", "--width", String.valueOf(width), "--height", String.valueOf(height),
                "--server", system.baseUrl());

        assertEquals(0, generate.exit(), generate.err());
        assertTrue(generate.out().contains("running"), "the states are shown as they happen: " + generate.out());
        assertTrue(generate.out().contains("succeeded"), generate.out());
        assertTrue(Pattern.compile("\\[#+\\.*\\] +\\d+% ").matcher(generate.out()).find(), "a progress bar: " + generate.out());
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "a PNG was written");
        assertEquals(width, image.getWidth());
        assertEquals(height, image.getHeight());

        Matcher queued = Pattern.compile("job (\\S+) queued \\(seed 7,").matcher(generate.out());
        assertTrue(queued.find(), generate.out());
        Run status = oneway(Map.of(), "status", queued.group(1), "--key", KEY, "--server", system.baseUrl());
        assertEquals(0, status.exit(), status.err());
        JsonObject job = new JsonObject(status.out());
        assertEquals("succeeded", job.getString("status"));
        assertEquals("a red fox", job.getString("prompt"));
        assertEquals(width, job.getInteger("width"));
    }

    @Test
    void modelsListsTheModelsAndGenerateRunsTheModelItNames() throws Exception {
        Run models = oneway(Map.of(), "models", "--key", KEY, "--server", system.baseUrl());
        assertEquals(0, models.exit(), models.err());
        JsonObject listed = new JsonObject(models.out());
        assertEquals(List.of("tiny-sd15", "tiny-sd21"), listed.getJsonArray("models").stream()
                .map(o -> ((JsonObject) o).getString("name")).toList());

        Path png = workDir.resolve("sd21.png");
        Run generate = oneway(Map.of(), "generate", "a red fox", "--model", "tiny-sd21", "-o", png.toString(),
                "--key", KEY, "--server", system.baseUrl());
        assertEquals(0, generate.exit(), generate.err());
        assertTrue(generate.out().contains(", model tiny-sd21)"), generate.out());
        assertNotNull(ImageIO.read(png.toFile()), "a PNG was written");
    }

    @Test
    void aWrongKeyPrintsTheGatewaysMessageAndExitsNonZero() {
        Path png = workDir.resolve("never.png");

        Run run = oneway(Map.of(), "generate", "a red fox", "-o", png.toString(), "--key", "wrong-key",
                "--server", system.baseUrl());

        assertEquals(1, run.exit());
        assertTrue(run.err().contains("invalid API key (unauthorized, HTTP 401)"), run.err());
        assertFalse(Files.exists(png));
    }

    @Test
    void aSizeTheModelCannotMakePrintsTheGatewaysMessageAndExitsNonZero() {
        int multiple = system.modelDefaults().sizeMultiple();

        Run run = oneway(Map.of(), "generate", "a red fox", "--width", String.valueOf(multiple + 1), "--key", KEY,
                "--server", system.baseUrl());

        assertEquals(1, run.exit());
        assertTrue(run.err().contains("width must be a multiple of " + multiple), run.err());
        assertTrue(run.err().contains("(invalid_request, HTTP 400)"), run.err());
    }

    @Test
    void statusOfAnUnknownJobPrintsTheGatewaysMessageAndExitsNonZero() {
        Run run = oneway(Map.of(), "status", "3f1c9a1e-5b7d-4e0f-9c61-2b8f3d6a7e10", "--key", KEY,
                "--server", system.baseUrl());

        assertEquals(1, run.exit());
        assertTrue(run.err().contains("no job '3f1c9a1e-5b7d-4e0f-9c61-2b8f3d6a7e10' (not_found, HTTP 404)"), run.err());
    }
}
