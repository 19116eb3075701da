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
        List<Section> sections = new ArrayList<>();
        if (options.runs("engine")) {
            sections.addAll(new EngineBench(options).run());
        }
        if (options.runs("gateway")) {
            sections.add(new GatewayBench(options).run());
        }
        if (options.runs("wrk")) {
            sections.add(new WrkBench(options).run());
        }
        if (options.runs("overhead")) {
            sections.add(new OverheadBench(options).run());
        }
        if (options.runs("saturation")) {
            sections.add(new SaturationBench(options).run());
        }
        if (options.runs("fanout")) {
            for (int connections : options.connections()) {
                sections.add(new FanOutBench(options).run(connections));
            }
        }
        if (options.runs("realsize")) {
            sections.add(new RealSizeBench(options).run());
        }
        if (options.runs("peer")) {
            sections.add(new PeerBench(options).run());
        }
        long minutes = Math.round((System.nanoTime() - start) / 60e9);
        String machine = Machine.describe(loadBefore, Machine.loadAverage(), started,
                minutes + " min" + (options.quick() ? " (--quick: fewer repetitions, smaller sizes)" : ""));
        Path report = options.docs().resolve("benchmarks.md");
        String command = "bench/run.sh" + (args.length == 0 ? "" : " " + String.join(" ", args));
        Files.writeString(report, Report.render(command, machine, started, sections, Report.previous(report)));
        System.out.println("[bench] wrote " + report.toAbsolutePath());
        System.exit(0); // Kafka and Vert.x leave non-daemon threads behind
    }
}
