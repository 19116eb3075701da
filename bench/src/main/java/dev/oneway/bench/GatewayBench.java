package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Goal 4: POST /v1/jobs per second (each job acknowledged by Kafka with acks=all before the 202) against
 * a bare Vert.x endpoint that only reads the body and answers 202. Both live in one server JVM and are
 * driven by the same load generator from this JVM, alternately, round after round.
 */
public final class GatewayBench {

    static final int CONNECTIONS = 256;
    private final BenchOptions options;

    public GatewayBench(BenchOptions options) {
        this.options = options;
    }

    public Section run() {
        int rounds = options.repeats(3);
        long warmupMs = options.quick() ? 2000 : 4000;
        long measureMs = options.quick() ? 4000 : 10_000;
        Map<String, String> headers = Map.of("Authorization", "Bearer demo-key", "Content-Type", "application/json");
        String body = "{\"prompt\":\"a lighthouse at dusk, oil painting\",\"seed\":42}";
        List<LoadGenerator.Result> gateway = new ArrayList<>();
        List<LoadGenerator.Result> bare = new ArrayList<>();
        double[] ratios = new double[rounds];
        Vertx vertx = Vertx.vertx();
        try (ChildJvm server = new ChildJvm("2g", ServerProcess.class)) {
            Map<String, String> ready = fields(server.await("READY"));
            int gatewayPort = Integer.parseInt(ready.get("gateway"));
            int barePort = Integer.parseInt(ready.get("bare"));
            LoadGenerator load = new LoadGenerator(vertx, CONNECTIONS);
            for (int r = 0; r < rounds; r++) {
                EngineBench.log("gateway: round %d of %d", r + 1, rounds);
                LoadGenerator.Result b = load.post(barePort, "/v1/jobs", headers, body, 202, warmupMs, measureMs);
                LoadGenerator.Result g = load.post(gatewayPort, "/v1/jobs", headers, body, 202, warmupMs, measureMs);
                bare.add(b);
                gateway.add(g);
                ratios[r] = g.requestsPerSecond() / b.requestsPerSecond();
                EngineBench.log("  bare %.0f req/s, gateway %.0f req/s (%d failed)", b.requestsPerSecond(),
                        g.requestsPerSecond(), g.failed());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            vertx.close();
        }
        double ratio = Stats.median(ratios);
        List<List<String>> rows = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            for (boolean isGateway : new boolean[] {false, true}) {
                LoadGenerator.Result x = isGateway ? gateway.get(r) : bare.get(r);
                rows.add(List.of(Integer.toString(r + 1), isGateway ? "gateway POST /v1/jobs" : "bare Vert.x 202",
                        f("%.0f", x.requestsPerSecond()), Long.toString(x.failed()), f("%.1f", x.p50Ms()), f("%.1f", x.p99Ms())));
            }
        }
        double gatewayMedian = Stats.median(gateway.stream().mapToDouble(LoadGenerator.Result::requestsPerSecond).toArray());
        double bareMedian = Stats.median(bare.stream().mapToDouble(LoadGenerator.Result::requestsPerSecond).toArray());
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("requests/s", List.of(bareMedian, gatewayMedian));
        Path chart = Charts.bars(options.docs().resolve("bench-gateway.png"), "POST /v1/jobs vs a bare 202 endpoint (median req/s)",
                "requests/s", List.of("bare Vert.x 202", "gateway (Kafka acks=all)"), series);
        String md = f("Both servers run in one child JVM (embedded KRaft Kafka, replication 1, with acks=all; the gateway answers "
                + "202 only after Kafka acknowledged the job record), each on every core (the gateway's HTTP verticle and the "
                + "bare endpoint deployed once per event loop). The load "
                + "generator (`LoadGenerator`, Vert.x HttpClient, %d keep-alive connections, closed loop) runs in the "
                + "benchmark JVM; each round measures %d s after %d s of warm-up, bare first, then the gateway. Latencies in ms.\n\n",
                CONNECTIONS, measureMs / 1000, warmupMs / 1000)
                + Report.table(List.of("round", "target", "requests/s", "failed", "p50", "p99"), rows)
                + f("%nMedian: gateway %.0f req/s, bare %.0f req/s; median of per-round ratios **%.0f%%**.%n%n", gatewayMedian,
                bareMedian, 100 * ratio)
                + Report.image("gateway", chart, options.docs());
        return new Section("4. Gateway: job submissions per second", md, List.of(new Goal("4",
                "POST /v1/jobs req/s vs bare Vert.x 202", ">= 35%", f("%.0f%% (%.0f vs %.0f req/s)", 100 * ratio, gatewayMedian,
                bareMedian), ratio >= 0.35)));
    }

    static Map<String, String> fields(String line) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : line.split("\\s+")) {
            int eq = part.indexOf('=');
            out.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return out;
    }
}
