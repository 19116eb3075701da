package dev.oneway.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The standalone as a person starts it, in its own JVM with the production logging configuration: every log
 * line on its standard output is one JSON object, the lines about a job carry its id and tenant, and the banner
 * stays plain text.
 */
class JsonLogsTest {

    static final String KEY = "key-logs";
    static final String TENANT = "logs";
    static final Pattern API_LINE = Pattern.compile("^\\s*API:\\s+http://127\\.0\\.0\\.1:(\\d+)/v1/jobs$");
    /** A line of c10's logger (libtorch), e.g. {@code [W1202 03:59:22.613004341 NNPACK.cpp:57] Could not ...}. */
    static final Pattern NATIVE_LINE = Pattern.compile("^(\\[rank\\d+\\]:)?\\[[FEWIV]\\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d+ [^\\]]+:\\d+\\] .*");
    static final Pattern NATIVE_ERROR = Pattern.compile("^(\\[rank\\d+\\]:)?\\[[FE].*");

    @TempDir
    Path dataDir;

    @Test
    void everyLogLineIsJsonAndTheLinesAboutAJobCarryItsIdAndTenant() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true",
                // The test classpath also holds the tests' plain-text logback-test.xml; the JVM must use production's.
                "-Dlogback.configurationFile=logback.xml",
                "-cp", System.getProperty("java.class.path"),
                Standalone.class.getName());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("ONEWAY_"));
        env.remove("TORCH_CPP_LOG_LEVEL"); // libtorch's log as a person gets it who never heard of the variable
        env.put("ONEWAY_HTTP_PORT", "0");
        env.put("ONEWAY_EMBEDDED_KAFKA_PORT", "0"); // not the documented 9092 and 9000: tests run side by side
        env.put("ONEWAY_EMBEDDED_S3_PORT", "0");
        env.put("ONEWAY_DATA_DIR", dataDir.toString());
        env.put("ONEWAY_API_KEYS", TENANT + ":" + KEY);
        builder.redirectErrorStream(true);
        Process process = builder.start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> readLines(process, output), "standalone-output");
        reader.start();
        Vertx vertx = Vertx.vertx();
        try {
            String apiLine = awaitLine(process, output, line -> API_LINE.matcher(line).matches());
            Matcher api = API_LINE.matcher(apiLine);
            assertTrue(api.matches());
            String limits;
            List<String> modelLines;
            try (OnewayClient client = new OnewayClient(vertx, Integer.parseInt(api.group(1)))) {
                // The banner states the limits and defaults in force: the ones GET /v1/models and the served API
                // document name.
                JsonObject prompt = new JsonObject(new ObjectMapper(new YAMLFactory()).readValue(
                        client.get(null, "/openapi.yaml").body().toString(), new TypeReference<Map<String, Object>>() { }))
                        .getJsonObject("components").getJsonObject("schemas").getJsonObject("JobSubmission")
                        .getJsonObject("properties").getJsonObject("prompt");
                limits = "Limits:     prompts up to " + prompt.getInteger("maxLength") + " characters";
                JsonObject listed = client.get(KEY, "/v1/models").json();
                List<String> lines = new ArrayList<>();
                for (Object o : listed.getJsonArray("models")) {
                    JsonObject m = (JsonObject) o;
                    lines.add("    " + m.getString("name") + (m.getBoolean("default") ? " (default)" : "") + ": "
                            + m.getString("family") + ", default " + m.getInteger("nativeWidth") + "x"
                            + m.getInteger("nativeHeight") + ", " + m.getInteger("defaultSteps") + " steps, sampler "
                            + m.getString("defaultSampler") + "; width and height multiples of " + m.getInteger("sizeMultiple")
                            + " up to " + m.getInteger("maxSide") + ", 1 to " + m.getInteger("maxSteps") + " steps; decoders "
                            + String.join(", ", m.getJsonArray("decoders").stream().map(String::valueOf).toList()) + "; jobs topic ");
                }
                modelLines = lines;
                JsonObject request = new JsonObject().put("prompt", "a lantern in the fog").put("width", 64).put("height", 64);
                String id = client.submit(KEY, request).json().getString("id");
                assertEquals("succeeded", client.awaitFinished(KEY, id).getString("status"));

                awaitLine(process, output, line -> line.contains("\"jobId\":\"" + id + "\"")
                        && line.contains("\"logger_name\":\"dev.oneway.worker."));
                // The gateway writes no line per accepted job (a cost on the hot path; /metrics counts them), the
                // worker one per outcome, with the job's id and tenant.
                assertTrue(output.stream().noneMatch(line -> line.contains("\"jobId\":\"" + id + "\"")
                        && line.contains("\"logger_name\":\"dev.oneway.gateway.")), "no gateway INFO line per accepted job");
                JsonObject finished = onlyLog(output, id, "dev.oneway.worker.CompletionPipeline");
                assertEquals("Job " + id + " succeeded", finished.getString("message"));
                assertEquals("INFO", finished.getString("level"));
                assertEquals(TENANT, finished.getString("tenant"));
                assertTrue(finished.getString("@timestamp").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"),
                        "RFC 3339 with milliseconds, as in the API: " + finished.getString("@timestamp"));
                assertNotNull(finished.getString("thread_name"));
            }

            // The banner (printed, not logged) is the one block of plain text; every other line of Oneway's is a JSON
            // object. libtorch writes to the same stream past every Java logger, in c10's format; at its default level
            // (TorchRuntime) only its errors may appear, never the warnings some CPUs cause (NNPACK's "Unsupported
            // hardware" once per convolution).
            List<String> lines = new ArrayList<>(output);
            List<String> oneways = lines.stream().filter(line -> !NATIVE_LINE.matcher(line).matches()).toList();
            List<String> nativeBelowError = lines.stream()
                    .filter(line -> NATIVE_LINE.matcher(line).matches() && !NATIVE_ERROR.matcher(line).matches()).toList();
            assertEquals(List.of(), nativeBelowError, "libtorch's warnings and info lines stay out of the output");
            int bannerStart = -1;
            int bannerEnd = oneways.indexOf("Stop with Ctrl-C.");
            assertTrue(bannerEnd > 0, "the banner ends with 'Stop with Ctrl-C.'");
            for (int i = 0; i < oneways.size(); i++) {
                if (!isJsonObject(oneways.get(i))) {
                    bannerStart = i;
                    break;
                }
            }
            List<String> banner = oneways.subList(bannerStart, bannerEnd + 1);
            assertTrue(banner.contains("Oneway is running."), "banner: " + banner);
            assertTrue(banner.contains("  " + limits), "the banner states the limits in force (" + limits + "): " + banner);
            for (String model : modelLines) {
                assertTrue(banner.stream().anyMatch(line -> line.startsWith(model)),
                        "the banner states each model's defaults and limits as GET /v1/models does (" + model + "): " + banner);
            }
            assertTrue(banner.stream().anyMatch(line -> line.matches("\\s*Kafka:\\s+127\\.0\\.0\\.1:\\d+ .*")), "banner: " + banner);
            assertTrue(banner.stream().anyMatch(line -> line.matches("\\s*S3:\\s+http://127\\.0\\.0\\.1:\\d+ .*secret key .*")),
                    "the banner names the S3 endpoint and its credentials: " + banner);
            assertTrue(banner.stream().anyMatch(line -> line.trim().startsWith("kcat -b 127.0.0.1:")), "banner: " + banner);
            assertTrue(banner.stream().anyMatch(line -> line.contains(" aws --endpoint-url http://127.0.0.1:")), "banner: " + banner);
            for (int i = 0; i < oneways.size(); i++) {
                if (i < bannerStart || i > bannerEnd) {
                    assertTrue(isJsonObject(oneways.get(i)), "line " + i + " is not a JSON object: " + oneways.get(i));
                }
            }
            // Each warning once: the tiny model's box in the banner only, and no CUDA complaint on a CPU machine.
            assertEquals(1, lines.stream().filter(line -> line.contains("serving the generated TINY model")).count(),
                    "the tiny-model warning appears once: " + lines);
            assertFalse(lines.stream().anyMatch(line -> line.contains("Failed to detect GPU count")), "no CUDA warning: " + lines);

            // Ctrl-C (SIGINT, what a terminal sends) stops it cleanly: exit status 0, and what it writes while
            // stopping is JSON lines too, with no stack trace. A process started with SIGINT ignored (a background
            // job of a non-interactive shell, as a CI runner may start the build) hands that on to the standalone,
            // whose JVM then leaves SIGINT alone, as Unix intends; there the same stop is asked with SIGTERM.
            String signal = sigintIgnoredHere() ? "TERM" : "INT";
            int before = output.size();
            Process kill = new ProcessBuilder("sh", "-c", "kill -" + signal + " " + process.pid()).inheritIO().start();
            assertEquals(0, kill.waitFor(), "kill -" + signal);
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the standalone stops within 60 s of SIG" + signal);
            reader.join(TimeUnit.SECONDS.toMillis(10));
            assertEquals(0, process.exitValue(), "exit status after SIG" + signal + ": " + output.subList(before, output.size()));
            List<String> stopping = new ArrayList<>(output.subList(before, output.size()));
            assertTrue(stopping.stream().anyMatch(line -> isJsonObject(line) && "Oneway stopped".equals(new JsonObject(line).getString("message"))),
                    "it says it stopped: " + stopping);
            for (String line : stopping) {
                assertTrue(isJsonObject(line) || NATIVE_LINE.matcher(line).matches(),
                        "while stopping, a line that is not a JSON object: " + line + " in " + stopping);
                assertFalse(line.contains("\tat ") || line.contains("\\tat ") || line.contains("Exception"),
                        "a stack trace while stopping: " + stopping);
            }
        } finally {
            vertx.close();
            process.destroy(); // SIGTERM: the shutdown hook stops the system
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            reader.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    private static JsonObject onlyLog(List<String> output, String jobId, String logger) {
        List<JsonObject> found = output.stream()
                .filter(JsonLogsTest::isJsonObject)
                .map(JsonObject::new)
                .filter(json -> jobId.equals(json.getString("jobId")) && logger.equals(json.getString("logger_name")))
                .toList();
        assertEquals(1, found.size(), "log lines of " + logger + " about job " + jobId + ": " + found);
        return found.get(0);
    }

    private static boolean isJsonObject(String line) {
        if (!line.startsWith("{")) {
            return false;
        }
        try {
            new JsonObject(line);
            return true;
        } catch (DecodeException e) {
            return false;
        }
    }

    private static String awaitLine(Process process, List<String> output, Predicate<String> wanted) {
        long deadline = System.nanoTime() + OnewayClient.PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : output) {
                if (wanted.test(line)) {
                    return line;
                }
            }
            assertFalse(!process.isAlive() && output.stream().noneMatch(wanted),
                    "the standalone exited with " + (process.isAlive() ? "?" : process.exitValue()) + ": " + output);
            OnewayClient.sleep(100);
        }
        throw new AssertionError("no such line in the standalone's output: " + output);
    }

    /** Whether this process ignores SIGINT (the SigIgn mask of /proc/self/status; false where there is none). */
    private static boolean sigintIgnoredHere() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseLong(line.substring("SigIgn:".length()).trim(), 16) & (1L << (2 - 1))) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    private static void readLines(Process process, List<String> output) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                output.add(line);
            }
        } catch (IOException e) {
            output.add("(reading the output failed: " + e + ")");
        }
    }
}
