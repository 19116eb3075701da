package dev.oneway.standalone;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * docs/reliability.md from the fault tests' own output: each fault test writes one result file under
 * target/reliability; after the fault tests the table is written from whatever files are there.
 *
 * <p>Regenerate the committed doc with
 * {@code ./mvnw -pl standalone -am verify -Dtest=FaultToleranceTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Doneway.reliability.doc=../docs/reliability.md}.
 */
final class ReliabilityReport {

    static final Path RESULTS = Path.of("target", "reliability");

    /** One fault test's result. */
    record Row(int order, String fault, String test, int submitted, int lost, int duplicates, double recoverySeconds) {
        JsonObject toJson() {
            return new JsonObject().put("order", order).put("fault", fault).put("test", test).put("submitted", submitted)
                    .put("lost", lost).put("duplicates", duplicates).put("recoverySeconds", recoverySeconds);
        }

        static Row fromJson(JsonObject json) {
            return new Row(json.getInteger("order"), json.getString("fault"), json.getString("test"),
                    json.getInteger("submitted"), json.getInteger("lost"), json.getInteger("duplicates"),
                    json.getDouble("recoverySeconds"));
        }
    }

    private ReliabilityReport() { }

    static void record(Row row) {
        try {
            Files.createDirectories(RESULTS);
            Files.writeString(RESULTS.resolve(row.test() + ".json"), row.toJson().encodePrettily());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the table to target/reliability/reliability.md, and to -Doneway.reliability.doc when given. */
    static void write() {
        String markdown = markdown(rows());
        try {
            Files.createDirectories(RESULTS);
            Files.writeString(RESULTS.resolve("reliability.md"), markdown);
            String doc = System.getProperty("oneway.reliability.doc");
            if (doc != null && !doc.isBlank()) {
                Files.writeString(Path.of(doc), markdown);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Row> rows() {
        if (!Files.isDirectory(RESULTS)) {
            return List.of();
        }
        List<Row> rows = new ArrayList<>();
        try (Stream<Path> files = Files.list(RESULTS)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                rows.add(Row.fromJson(new JsonObject(Files.readString(file))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        rows.sort(Comparator.comparingInt(Row::order).thenComparing(Row::fault));
        return rows;
    }

    static String markdown(List<Row> rows) {
        StringBuilder md = new StringBuilder();
        md.append("# Reliability: what the fault tests measured\n\n")
                .append("Generated from the output of `standalone/src/test/java/dev/oneway/standalone/FaultToleranceTest.java`; ")
                .append("do not edit by hand. Each row is one test against a real embedded Kafka broker, a real S3 server ")
                .append("(S3Proxy), the gateway and worker verticles, and, where a process is killed or stopped, real child JVMs ")
                .append("running `GatewayMain` or `WorkerMain`. Regenerate with\n\n")
                .append("```bash\n./mvnw -pl standalone -am verify -Dtest=FaultToleranceTest -Dsurefire.failIfNoSpecifiedTests=false \\\n")
                .append("    -Doneway.reliability.doc=../docs/reliability.md\n```\n\n")
                .append("Every test asserts, besides its own fault: every accepted job (answered 202) reaches exactly one terminal ")
                .append("state; every succeeded job's image object exists and decodes as a PNG of the requested size; no tenant ")
                .append("sees another tenant's job (404 on GET, no WebSocket frame).\n\n")
                .append("- **jobs lost**: accepted jobs that never reached a terminal state.\n")
                .append("- **duplicate terminal events**: terminal events WebSocket clients received beyond the first per job.\n")
                .append("- **time to recover**: from the end of the fault (the part back, the process gone, the client back) ")
                .append("until every job had its terminal state; it includes the engine's time on a loaded CI machine, so it ")
                .append("is an observation, not a limit.\n\n")
                .append("| fault | jobs submitted | jobs lost | duplicate terminal events seen by clients | time to recover (s) |\n")
                .append("|---|---:|---:|---:|---:|\n");
        for (Row row : rows) {
            md.append("| ").append(row.fault())
                    .append(" | ").append(row.submitted())
                    .append(" | ").append(row.lost())
                    .append(" | ").append(row.duplicates())
                    .append(" | ").append(String.format(Locale.ROOT, "%.1f", row.recoverySeconds()))
                    .append(" |\n");
        }
        return md.toString();
    }
}
