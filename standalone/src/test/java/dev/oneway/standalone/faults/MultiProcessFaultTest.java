package dev.oneway.standalone.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Oneway deployed as separate processes (Kafka broker, S3 server, gateways A and B, workers 1 and 2), with users that
 * retry and read through both gateways, while one part after another fails: a worker killed and restarted, the broker
 * killed for 15 s, gateway A killed during submissions, S3 down for 20 s, a worker stopped with SIGTERM. Plus checks
 * of the two gateways without faults: one Idempotency-Key on both at once, a changed body, DELETE and GET on the
 * gateway that did not accept. Every job answered 202 must end in exactly one terminal state that GET on both
 * gateways, the WebSockets and the events topic agree on (see {@link Campaign} and {@link Outcome} for the checks).
 *
 * <p>By default a short campaign (one repetition, 24 jobs per fault); {@code -Dfaults.full=true} runs the full one
 * (three repetitions, 150 jobs per fault) and {@code -Dfaults.doc=PATH} writes its tables as markdown there:
 * {@code tools/faults/run.sh} does both and rewrites docs/reliability.md. Child output goes to target/faults/.
 */
class MultiProcessFaultTest {

    @Test
    void everyAcceptedJobEndsInExactlyOneStateWhicheverPartFails() {
        assumeTrue(onClasspath("kafka.Kafka") && onClasspath("kafka.tools.StorageTool") && onClasspath("org.gaul.s3proxy.S3Proxy"),
                "Apache Kafka's server and S3Proxy are on the test classpath");
        Campaign.Plan plan = Boolean.getBoolean("faults.full") ? Campaign.Plan.full() : Campaign.Plan.ci();
        Path dir = Path.of("target", "faults", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        long t0 = System.nanoTime();
        List<Outcome> outcomes;
        try (Campaign campaign = new Campaign(plan, dir, line -> System.out.println("[faults] " + line))) {
            outcomes = campaign.run();
        } finally {
            ChildProcess.killAll();
        }
        double minutes = (System.nanoTime() - t0) / 60e9;
        List<Outcome> merged = FaultReport.merged(outcomes);
        String text = FaultReport.text(merged);
        System.out.println(text);
        String markdown = FaultReport.markdown(merged, plan.name(), plan.jobsPerFault(), plan.repetitions(), minutes,
                System.getProperty("faults.inProcessTable") == null ? null : Path.of(System.getProperty("faults.inProcessTable")));
        write(dir.resolve("reliability.md"), markdown);
        String doc = System.getProperty("faults.doc");
        if (doc != null && !doc.isBlank()) {
            write(Path.of(doc), markdown);
        }
        assertEquals(0, ChildProcess.running(), "no process of the deployment outlives the test");
        List<String> found = merged.stream().flatMap(o -> o.failures().stream().map(f -> o.scenario + ": " + f)).toList();
        assertEquals(List.of(), found, "checks that found something (table above; logs in " + dir.toAbsolutePath() + ")");
    }

    private static boolean onClasspath(String className) {
        try {
            Class.forName(className, false, MultiProcessFaultTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
