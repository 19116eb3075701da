package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.oneway.common.Setting;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's curl examples, copied out of README.md and run by bash and curl exactly as written, against the system
 * the quick start runs: default settings, the generated tiny model. The only thing the test changes is where
 * {@code $ONEWAY} points (tests use a free port, not 8080), and it sets {@code $ID} as the README tells the reader to.
 */
class ReadmeExamplesTest {

    static final Pattern BASH_BLOCK = Pattern.compile("```bash\\n(.*?)\\n```", Pattern.DOTALL);
    static final Pattern STATUS_LINE = Pattern.compile("(?m)^README-TEST-HTTP-STATUS (\\d{3})$");
    static final String RFC_3339_MILLIS = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir
    static Path dataDir;
    @TempDir
    Path workDir;
    static OnewaySystem system;
    static OnewayClient client;
    static String exports;
    static List<String> curlExamples;

    @BeforeAll
    static void startQuickStartSystem() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        List<String> blocks = new ArrayList<>();
        Matcher m = BASH_BLOCK.matcher(readme);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        exports = blocks.stream().filter(b -> b.contains("export ONEWAY=") && b.contains("export KEY=")).findFirst()
                .orElseThrow(() -> new AssertionError("README sets ONEWAY and KEY in a bash block"));
        curlExamples = blocks.stream().filter(b -> b.contains("curl ") && b.contains("$ONEWAY") && b.contains("$KEY")).toList();
        // Only what `./oneway serve` has: the default settings (a free port instead of 8080).
        system = OnewaySystem.builder().dataDir(dataDir).set(Setting.HTTP_PORT, 0).start();
        client = new OnewayClient(system.vertx(), system.httpPort());
    }

    @AfterAll
    static void stopSystem() {
        if (client != null) {
            client.close();
        }
        if (system != null) {
            system.close();
        }
    }

    @Test
    void everyCurlExampleOfTheReadmeSucceedsAgainstTheQuickStart() throws Exception {
        List<String> submit = examples("submit");
        List<String> read = examples("read");
        List<String> image = examples("image");
        List<String> cancel = examples("cancel");
        List<String> models = examples("models");
        assertEquals(List.of(), examples("other"), "every curl example is one of submit, read, image, cancel, models");
        assertTrue(submit.size() >= 1 && read.size() >= 1 && image.size() >= 1 && cancel.size() >= 1 && models.size() >= 1,
                "examples: " + curlExamples);
        assertTrue(submit.stream().anyMatch(e -> e.contains("\"model\": \"tiny-sd21\"")), "an example names a model");
        String key = firstKey();

        // The models: both generated ones, each with its limits and one worker serving it.
        for (String example : models) {
            Run run = run(example, null);
            assertEquals(200, run.status(), run.toString());
            JsonObject listed = new JsonObject(run.lastJsonLine());
            assertEquals("tiny-sd15", listed.getString("defaultModel"), run.toString());
            assertEquals(List.of("tiny-sd15", "tiny-sd21"), listed.getJsonArray("models").stream()
                    .map(o -> ((JsonObject) o).getString("name")).toList());
            for (Object o : listed.getJsonArray("models")) {
                JsonObject model = (JsonObject) o;
                assertEquals(1, model.getInteger("workers"), model.encode());
                assertEquals(system.modelDefaults(model.getString("name")).maxSide(), model.getInteger("maxSide"), model.encode());
            }
        }

        // Submitting: every example is accepted (202), with a job in the answer, and succeeds.
        String firstId = null;
        List<String> ids = new ArrayList<>();
        for (String example : submit) {
            Run run = run(example, null);
            assertEquals(202, run.status(), run.toString());
            String id = new JsonObject(run.lastJsonLine()).getString("id");
            ids.add(id);
            firstId = firstId == null ? id : firstId;
        }
        for (String id : ids) {
            assertEquals("succeeded", client.awaitFinished(key, id).getString("status"), id);
        }

        for (String example : read) {
            Run run = run(example, firstId);
            assertEquals(200, run.status(), run.toString());
            JsonObject job = new JsonObject(run.lastJsonLine());
            assertEquals("succeeded", job.getString("status"), run.toString());
            // One timestamp format, whichever part of the system wrote the time.
            for (String time : List.of(job.getString("createdAt"), job.getString("startedAt"), job.getString("finishedAt"),
                    job.getJsonObject("result").getString("expiresAt"))) {
                assertTrue(time.matches(RFC_3339_MILLIS), time + " in " + job.encode());
            }
        }
        for (String example : image) {
            Run run = run(example, firstId);
            assertEquals(200, run.status(), "the presigned URL answers 200 after the redirect: " + run);
            Path png = onlyNewFile();
            byte[] bytes = Files.readAllBytes(png);
            assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(bytes, PNG_SIGNATURE.length), png + " is a PNG");
        }

        // Canceling needs a job that is still queued: with the workers stopped, the first example queues one.
        system.stopWorkers();
        String queued = new JsonObject(run(submit.get(0), null).lastJsonLine()).getString("id");
        for (String example : cancel) {
            Run run = run(example, queued);
            assertEquals(200, run.status(), run.toString());
            assertEquals("canceled", new JsonObject(run.lastJsonLine()).getString("status"), run.toString());
        }
    }

    @Test
    void theApiDocumentNamesTheQuickStartsUrlAndItsExampleJobIsAccepted() throws IOException {
        OnewayClient.Reply served = client.get(null, "/openapi.yaml");
        assertEquals(200, served.status());
        JsonObject document = new JsonObject(new ObjectMapper(new YAMLFactory()).readValue(served.body().toString(),
                new TypeReference<Map<String, Object>>() { }));

        assertEquals("http://localhost:" + system.httpPort(), document.getJsonArray("servers").getJsonObject(0).getString("url"));
        JsonObject example = document.getJsonObject("paths").getJsonObject("/v1/jobs").getJsonObject("post")
                .getJsonObject("requestBody").getJsonObject("content").getJsonObject("application/json")
                .getJsonObject("example");
        OnewayClient.Reply accepted = client.submit(firstKey(), example);
        assertEquals(202, accepted.status(), accepted.body().toString());
    }

    private static List<String> examples(String kind) {
        return curlExamples.stream().filter(example -> kind(example).equals(kind)).toList();
    }

    private static String kind(String example) {
        if (example.contains("\"$ONEWAY/v1/models\"") && !example.contains("-X ")) {
            return "models";
        } else if (example.contains("-X POST \"$ONEWAY/v1/jobs\"")) {
            return "submit";
        } else if (example.contains("-X DELETE \"$ONEWAY/v1/jobs/$ID\"")) {
            return "cancel";
        } else if (example.contains("\"$ONEWAY/v1/jobs/$ID/image\"") && !example.contains("-X ")) {
            return "image";
        } else if (example.contains("\"$ONEWAY/v1/jobs/$ID\"") && !example.contains("-X ")) {
            return "read";
        }
        return "other";
    }

    private static String firstKey() {
        return system.config().apiKeys().keySet().iterator().next();
    }

    /** One bash run: README's exports, $ONEWAY pointed at this system, $ID, then the example as written. */
    private Run run(String example, String id) throws IOException, InterruptedException {
        String script = String.join("\n",
                // curl's own status line after each example, so a 4xx answer (which curl -s does not fail on) shows.
                "curl() { command curl --write-out '\\nREADME-TEST-HTTP-STATUS %{http_code}\\n' \"$@\"; }",
                exports,
                "ONEWAY=" + system.baseUrl(),
                id == null ? "" : "ID=" + id,
                example);
        Process process = new ProcessBuilder("bash", "-e", "-c", script)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(OnewayClient.PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("bash did not finish: " + example);
        }
        assertEquals(0, process.exitValue(), "bash -e exits 0 for\n" + example + "\noutput:\n" + output);
        return new Run(example, output);
    }

    private Path onlyNewFile() throws IOException {
        try (var files = Files.list(workDir)) {
            List<Path> all = files.toList();
            assertEquals(1, all.size(), "the image example wrote one file: " + all);
            return all.get(0);
        }
    }

    record Run(String example, String output) {
        int status() {
            Matcher m = STATUS_LINE.matcher(output);
            int last = -1;
            while (m.find()) {
                last = Integer.parseInt(m.group(1));
            }
            return last;
        }

        String lastJsonLine() {
            return output.lines().filter(line -> line.startsWith("{")).reduce((a, b) -> b)
                    .orElseThrow(() -> new AssertionError("no JSON in the answer to\n" + example + "\n" + output));
        }

        @Override
        public String toString() {
            return example + "\n->\n" + output;
        }
    }
}
