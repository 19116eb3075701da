package dev.oneway.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code npx @redocly/cli lint} on an OpenAPI document, as a reader of the document would run it: Redocly's
 * recommended rules, and examples that break their own schema counted as errors (by default only warnings).
 * CI installs npm (.ci/run); 1.34.20 is the newest Redocly CLI that runs on Debian 12's Node 18.
 */
final class RedoclyLint {

    static final String CLI = "@redocly/cli@1.34.20";
    static final String CONFIG = String.join("\n",
            "extends:",
            "  - recommended",
            "rules:",
            "  no-invalid-media-type-examples: error",
            "  no-invalid-schema-examples: error",
            "");

    record Result(int exitCode, String output) {
        boolean passed() {
            return exitCode == 0;
        }
    }

    private RedoclyLint() { }

    static boolean npxAvailable() {
        try {
            Process p = new ProcessBuilder("npx", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Lints the documents (file name to YAML), written to {@code dir} with Redocly's configuration beside them. */
    static Result lint(Map<String, String> documents, Path dir) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("npx", "--yes", CLI, "lint", "--config", "redocly.yaml"));
        for (Map.Entry<String, String> document : documents.entrySet()) {
            Files.writeString(dir.resolve(document.getKey()), document.getValue());
            command.add(document.getKey());
        }
        Files.writeString(dir.resolve("redocly.yaml"), CONFIG);
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("redocly lint did not finish:\n" + output);
        }
        return new Result(process.exitValue(), output);
    }
}
