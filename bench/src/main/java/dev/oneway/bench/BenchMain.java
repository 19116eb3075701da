package dev.oneway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the performance suite and writes docs/benchmarks.md with PNG charts beside it. Parts: engine
 * (goals 1-3), gateway and wrk (4), overhead (5), saturation (issue 15's system goal), fanout (6), realsize (7), peer (8, with the Loopfree and diffusers
 * checkouts given); see {@link BenchOptions}.
 */
public final class BenchMain {

    private record Part(String name, java.util.function.Supplier<List<Section>> run) { }

    public static void main(String[] args) throws IOException {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"); // Kafka is chatty at info
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        String loadBefore = Machine.loadAverage();
        String started = Machine.now();
        long start = System.nanoTime();
        Files.createDirectories(options.docs());
        Path report = options.docs().resolve("benchmarks.md");
        String previous = Report.previous(report);
        String command = "bench/run.sh" + (args.length == 0 ? "" : " " + String.join(" ", args));
        List<Section> sections = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<Part> parts = List.of(
                new Part("engine", () -> new EngineBench(options).run()),
                new Part("gateway", () -> List.of(new GatewayBench(options).run())),
                new Part("wrk", () -> List.of(new WrkBench(options).run())),
                new Part("overhead", () -> List.of(new OverheadBench(options).run())),
                new Part("saturation", () -> List.of(new SaturationBench(options).run())),
                new Part("fanout", () -> options.connections().stream().map(c -> new FanOutBench(options).run(c)).toList()),
                new Part("realsize", () -> List.of(new RealSizeBench(options).run())),
                new Part("peer", () -> List.of(new PeerBench(options).run())));
        for (Part part : parts) {
            if (!options.runs(part.name())) {
                continue;
            }
            try {
                sections.addAll(part.run().get());
            } catch (RuntimeException e) {
                // One part failing (a missing tool, a child process that died) costs that part, not the others.
                System.err.println("[bench] part " + part.name() + " failed: " + e);
                e.printStackTrace();
                failed.add(part.name());
            }
            // Written after every part: a long run that is stopped or fails later keeps what it measured.
            long minutes = Math.round((System.nanoTime() - start) / 60e9);
            String machine = Machine.describe(loadBefore, Machine.loadAverage(), started,
                    minutes + " min" + (options.quick() ? " (--quick: fewer repetitions, smaller sizes)" : ""));
            Files.writeString(report, Report.render(command, machine, started, sections, previous));
            System.out.println("[bench] wrote " + report.toAbsolutePath() + " (after " + part.name() + ")");
        }
        if (!failed.isEmpty()) {
            System.err.println("[bench] failed parts: " + failed + "; their earlier sections, if any, were kept");
            System.exit(1);
        }
        System.exit(0); // Kafka and Vert.x leave non-daemon threads behind
    }
}
