package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import dev.oneway.embedded.FreePorts;
import dev.oneway.gateway.GatewayMain;
import dev.oneway.worker.WorkerMain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Goal 4 with an external load generator: wrk (Debian's package), its Lua script giving every request a new prompt,
 * against the gateway as deployed (GatewayMain in its own JVM, its Kafka broker and its S3 server each in another)
 * and against a bare Vert.x 202 endpoint on every core (a JVM of its own), alternately, round after round.
 */
public final class WrkBench {

    static final int THREADS = 2;
    static final int CONNECTIONS = 128;

    /** Each request a new prompt (thread number and counter), so nothing downstream can cache or deduplicate. */
    static final String SCRIPT = """
            local threads = {}
            function setup(thread)
              thread:set("tid", #threads)
              table.insert(threads, thread)
            end
            local counter = 0
            local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer demo-key"}
            request = function()
              counter = counter + 1
              local body = '{"prompt":"a lighthouse at dusk, oil painting, variation ' .. tid .. '-' .. counter .. '"}'
              return wrk.format("POST", "/v1/jobs", headers, body)
            end
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("WRK requests=%d duration_us=%d status_errors=%d socket_errors=%d p50_us=%d p99_us=%d\\n",
                summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
                latency:percentile(50), latency:percentile(99)))
            end
            """;

    /**
     * One measured wrk run.
     *
     * @param cpuMsPerThousand CPU time (user + system) per 1,000 requests of each process taking part, wrk included
     */
    record Run(double requestsPerSecond, long statusErrors, long socketErrors, double p50Ms, double p99Ms,
               Map<String, Double> cpuMsPerThousand) { }

    private final BenchOptions options;

    public WrkBench(BenchOptions options) {
        this.options = options;
    }

    public Section run() {
        if (!wrkInstalled()) {
            String md = "wrk is not installed (`apt-get install -y wrk`; bench/run.sh does it); this part was skipped.\n";
            return new Section("4b. Gateway under wrk", md, List.of(new Goal("4", "POST /v1/jobs req/s vs bare Vert.x 202 (wrk)",
                    ">= 35%", "not measured (no wrk)", null)));
        }
        int rounds = options.repeats(3);
        int warmupS = options.quick() ? 2 : 3;
        int measureS = options.quick() ? 4 : 10;
        List<Run> gateway = new ArrayList<>();
        List<Run> bare = new ArrayList<>();
        double[] ratios = new double[rounds];
        try (ChildJvm kafka = new ChildJvm("1g", InfraProcess.class, "kafka");
             ChildJvm s3 = new ChildJvm("512m", InfraProcess.class, "s3");
             ChildJvm bareServer = new ChildJvm("1g", BareEndpoint.class)) {
            String bootstrap = GatewayBench.fields(kafka.await("READY")).get("address");
            String s3Endpoint = GatewayBench.fields(s3.await("READY")).get("address");
            int barePort = Integer.parseInt(GatewayBench.fields(bareServer.await("READY")).get("port"));
            int gatewayPort = FreePorts.next();
            Map<String, String> env = new LinkedHashMap<>();
            env.put("ONEWAY_HTTP_PORT", String.valueOf(gatewayPort));
            env.put("ONEWAY_KAFKA_BOOTSTRAP", bootstrap);
            env.put("ONEWAY_S3_ENDPOINT", s3Endpoint);
            env.put("ONEWAY_S3_ACCESS_KEY", InfraProcess.ACCESS_KEY);
            env.put("ONEWAY_S3_SECRET_KEY", InfraProcess.SECRET_KEY);
            env.put("ONEWAY_API_KEYS", "demo:demo-key");
            env.put("ONEWAY_JOBS_PER_MINUTE_PER_TENANT", "1000000000");
            env.put("ONEWAY_MAX_UNFINISHED_JOBS_PER_TENANT", "1000000000");
            env.put("ONEWAY_MODELS", "tiny-sd15=tiny:sd15");
            Map<String, String> workerEnv = new LinkedHashMap<>(env);
            workerEnv.put("ONEWAY_WORKER_HTTP_PORT", "0");
            try (ChildJvm gatewayJvm = new ChildJvm("2g", env, List.of(), GatewayMain.class)) {
                awaitReady(gatewayPort);
                // The gateway accepts jobs for models whose workers announced their limits. One worker announces the
                // tiny model and stops (its limits stay known under the model's key), so no job of the benchmark runs.
                try (ChildJvm worker = new ChildJvm("1g", workerEnv, List.of(), WorkerMain.class)) {
                    awaitAccepting(gatewayPort);
                    worker.terminate();
                }
                Path script = Files.createTempFile("oneway-wrk-", ".lua");
                Files.writeString(script, SCRIPT);
                Map<String, Long> bareProcesses = Map.of("bare endpoint JVM", bareServer.pid());
                Map<String, Long> gatewayProcesses = new LinkedHashMap<>();
                gatewayProcesses.put("gateway JVM", gatewayJvm.pid());
                gatewayProcesses.put("Kafka JVM", kafka.pid());
                gatewayProcesses.put("S3 JVM", s3.pid());
                // The JIT and the Kafka client's batches take longer than a round's warm-up to settle: one long warm-up.
                EngineBench.log("wrk: warming up both for %d s", 4 * warmupS);
                wrk(barePort, script, 2 * warmupS, Map.of());
                wrk(gatewayPort, script, 4 * warmupS, Map.of());
                for (int r = 0; r < rounds; r++) {
                    EngineBench.log("wrk: round %d of %d", r + 1, rounds);
                    wrk(barePort, script, warmupS, Map.of());
                    Run b = wrk(barePort, script, measureS, bareProcesses);
                    wrk(gatewayPort, script, warmupS, Map.of());
                    Run g = wrk(gatewayPort, script, measureS, gatewayProcesses);
                    bare.add(b);
                    gateway.add(g);
                    ratios[r] = g.requestsPerSecond() / b.requestsPerSecond();
                    EngineBench.log("  bare %.0f req/s, gateway %.0f req/s (%d non-202, %d socket errors)",
                            b.requestsPerSecond(), g.requestsPerSecond(), g.statusErrors(), g.socketErrors());
                }
                Files.deleteIfExists(script);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double ratio = Stats.median(ratios);
        List<List<String>> rows = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            for (boolean isGateway : new boolean[] {false, true}) {
                Run x = isGateway ? gateway.get(r) : bare.get(r);
                rows.add(List.of(Integer.toString(r + 1), isGateway ? "gateway POST /v1/jobs" : "bare Vert.x 202",
                        f("%.0f", x.requestsPerSecond()), Long.toString(x.statusErrors()), Long.toString(x.socketErrors()),
                        f("%.1f", x.p50Ms()), f("%.1f", x.p99Ms())));
            }
        }
        double gatewayMedian = Stats.median(gateway.stream().mapToDouble(Run::requestsPerSecond).toArray());
        double bareMedian = Stats.median(bare.stream().mapToDouble(Run::requestsPerSecond).toArray());
        String md = f("wrk %d threads, %d connections, a new prompt per request (Lua script in `WrkBench`), on the same "
                + "machine as the servers. The gateway is `GatewayMain` in its own JVM (%d cores, so %d HTTP event loops) with "
                + "its Kafka broker (KRaft, acks=all) and its S3 server each in another JVM; the bare endpoint is a Vert.x "
                + "server answering 202 after reading the body, one instance per core, in a fourth JVM. Each round: %d s "
                + "of warm-up, then %d s measured, bare first. Latencies in ms.%n%n", THREADS, CONNECTIONS,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().availableProcessors(), warmupS, measureS)
                + Report.table(List.of("round", "target", "requests/s", "non-202", "socket errors", "p50", "p99"), rows)
                + f("%nMedian: gateway %.0f req/s, bare %.0f req/s; median of per-round ratios **%.0f%%**.%n", gatewayMedian,
                bareMedian, 100 * ratio)
                + cpuTable(gateway, bare);
        return new Section("4b. Gateway under wrk", md, List.of(new Goal("4", "POST /v1/jobs req/s vs bare Vert.x 202 (wrk)",
                ">= 35%", f("%.0f%% (%.0f vs %.0f req/s)", 100 * ratio, gatewayMedian, bareMedian), ratio >= 0.35)));
    }

    /**
     * Where the machine's CPU goes per request: each process's CPU time per 1,000 requests (median over rounds). The
     * machine has {@code cores} x 1,000 ms of CPU per second, so the sum bounds the requests/s this machine can serve.
     */
    private static String cpuTable(List<Run> gateway, List<Run> bare) {
        List<List<String>> rows = new ArrayList<>();
        double[] sums = new double[2];
        int column = 0;
        for (List<Run> runs : List.of(gateway, bare)) {
            for (String name : runs.get(0).cpuMsPerThousand().keySet()) {
                double ms = Stats.median(runs.stream().mapToDouble(r -> r.cpuMsPerThousand().get(name)).toArray());
                sums[column] += ms;
                rows.add(List.of(column == 0 ? "gateway POST /v1/jobs" : "bare Vert.x 202", name, f("%.0f", ms)));
            }
            column++;
        }
        int cores = Runtime.getRuntime().availableProcessors();
        return f("%nCPU time (user + system) of each process per 1,000 requests, median over the rounds. This machine has "
                + "%d cores, %,d ms of CPU per second in all: the processes' sum bounds the requests/s it can serve at "
                + "%,d x 1,000 / sum.%n%n", cores, cores * 1000, cores * 1000)
                + Report.table(List.of("target", "process", "CPU ms per 1,000 requests"), rows)
                + f("%nSum: gateway side %.0f ms per 1,000 requests (bound %.0f req/s), bare side %.0f ms (bound %.0f req/s).%n",
                sums[0], cores * 1e6 / sums[0], sums[1], cores * 1e6 / sums[1]);
    }

    /** One wrk run; the CPU time of {@code processes} (name to pid) and of wrk itself is taken over the run. */
    private static Run wrk(int port, Path script, int seconds, Map<String, Long> processes) {
        try {
            Map<String, Long> before = new LinkedHashMap<>();
            processes.forEach((name, pid) -> before.put(name, cpuNanos(pid)));
            // bash's `times` prints the CPU time of its children (wrk) on its second line
            Process wrk = new ProcessBuilder("bash", "-c", "wrk -t" + THREADS + " -c" + CONNECTIONS + " -d" + seconds
                    + "s --latency -s '" + script + "' http://127.0.0.1:" + port + "/v1/jobs && echo TIMES && times")
                    .redirectErrorStream(true).start();
            String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (wrk.waitFor() != 0 || !out.contains("WRK ") || !out.contains("TIMES")) {
                throw new IllegalStateException("wrk failed: " + out);
            }
            String line = out.substring(out.indexOf("WRK ") + 4).lines().findFirst().orElseThrow();
            Map<String, String> v = GatewayBench.fields(line);
            double seconds2 = Long.parseLong(v.get("duration_us")) / 1e6;
            long requests = Long.parseLong(v.get("requests"));
            Map<String, Double> cpu = new LinkedHashMap<>();
            processes.forEach((name, pid) -> cpu.put(name, (cpuNanos(pid) - before.get(name)) / 1e6 / requests * 1000));
            List<String> times = out.substring(out.indexOf("TIMES")).lines().skip(1).toList();
            cpu.put("wrk", shellTimesSeconds(times.get(1)) * 1000 / requests * 1000);
            return new Run(requests / seconds2, Long.parseLong(v.get("status_errors")),
                    Long.parseLong(v.get("socket_errors")), Long.parseLong(v.get("p50_us")) / 1000.0,
                    Long.parseLong(v.get("p99_us")) / 1000.0, cpu);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** User + system CPU time of a live process so far. */
    static long cpuNanos(long pid) {
        return ProcessHandle.of(pid).flatMap(p -> p.info().totalCpuDuration()).map(Duration::toNanos)
                .orElseThrow(() -> new IllegalStateException("no CPU time for process " + pid));
    }

    /** "0m1.250s 0m0.420s" (bash's `times`: user, system) in seconds. */
    static double shellTimesSeconds(String line) {
        double total = 0;
        for (String t : line.trim().split("\\s+")) {
            int m = t.indexOf('m');
            total += Integer.parseInt(t.substring(0, m)) * 60 + Double.parseDouble(t.substring(m + 1, t.length() - 1));
        }
        return total;
    }

    private static boolean wrkInstalled() {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor();
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Until a job submitted to the gateway is accepted (202): its model's worker has announced itself. */
    private static void awaitAccepting(int port) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                                + "/v1/jobs")).timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer demo-key")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"is the model known yet\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 202) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
                Thread.sleep(500);
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("the gateway on port " + port + " accepted no job in 3 minutes; last answer " + last);
    }

    private static void awaitReady(int port) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/health/ready")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("the gateway on port " + port + " did not become ready in 3 minutes");
    }
}
