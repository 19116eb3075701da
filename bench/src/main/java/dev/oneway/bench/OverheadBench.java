package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import dev.oneway.common.Setting;
import dev.oneway.standalone.OnewaySystem;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Goal 5: what the system adds to the engine. The whole system (embedded Kafka and S3, gateway, worker,
 * tiny model) runs in this JVM; jobs are submitted at a steady rate over HTTP and their job.succeeded
 * frames awaited over a WebSocket. Overhead per job = (frame arrival - submit start) - the worker's
 * measured engine time for the job's batch. Run with the default batch wait and with 50 ms (what a long wait costs a job that arrives alone).
 */
public final class OverheadBench {

    record Run(int batchWaitMs, double ratePerSecond, int jobs, double[] overheadMs, double[] endToEndMs, double[] engineMs,
               double[] queueMs, double[] uploadMs, double meanBatch) { }

    private final BenchOptions options;

    public OverheadBench(BenchOptions options) {
        this.options = options;
    }

    public Section run() {
        int jobs = options.quick() ? 30 : 200;
        double rate = 4;
        List<Run> runs = new ArrayList<>();
        for (int wait : new int[] {Integer.parseInt(Setting.MAX_BATCH_WAIT_MS.defaultValue()), 50}) {
            runs.add(measure(wait, rate, jobs));
        }
        List<List<String>> rows = new ArrayList<>();
        List<Goal> goals = new ArrayList<>();
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("p50", new ArrayList<>());
        series.put("p99", new ArrayList<>());
        List<String> categories = new ArrayList<>();
        for (Run r : runs) {
            double p50 = Stats.percentile(r.overheadMs(), 50);
            double p99 = Stats.percentile(r.overheadMs(), 99);
            rows.add(List.of(f("%d ms", r.batchWaitMs()), f("%.0f/s", r.ratePerSecond()), Integer.toString(r.jobs()),
                    f("%.2f", r.meanBatch()), f("%.1f", Stats.median(r.engineMs())), f("%.1f", Stats.median(r.endToEndMs())),
                    f("%.1f", Stats.median(r.queueMs())), f("%.1f", Stats.median(r.uploadMs())),
                    f("**%.1f**", p50), f("**%.1f**", p99), f("%.1f", Stats.percentile(r.overheadMs(), 100))));
            goals.add(new Goal("5", f("system overhead p50 / p99, batch wait %d ms", r.batchWaitMs()), "<= 15 / <= 60 ms",
                    f("%.1f / %.1f ms", p50, p99), p50 <= 15 && p99 <= 60));
            categories.add(f("batch wait %d ms", r.batchWaitMs()));
            series.get("p50").add(p50);
            series.get("p99").add(p99);
        }
        Path chart = Charts.bars(options.docs().resolve("bench-overhead.png"), "System overhead per job (ms; end to end minus engine)",
                "ms", categories, series);
        String md = f("Standalone system in the benchmark JVM (embedded Kafka and S3, one gateway, one worker, tiny SD1.5-style "
                + "model at its default 64x64, TiUE, K = 4). Jobs are POSTed at a steady %.0f per second; a WebSocket client "
                + "of the same tenant takes the job.succeeded frames. *Overhead* = (frame arrival - submit start) - the "
                + "worker's engine time for the job's batch (`timings.engineMs`): HTTP, Kafka both ways, batching wait, "
                + "queueing behind a running batch, PNG upload to S3, presigning, WebSocket. *queue* is `timings.queueMs` "
                + "(accepted to batch start: the batch wait plus any queueing); *upload* is `timings.uploadMs`. All in ms, "
                + "medians unless marked.%n%n", rate)
                + Report.table(List.of("ONEWAY_MAX_BATCH_WAIT_MS", "load", "jobs", "mean batch", "engine", "end to end", "queue",
                "upload", "overhead p50", "overhead p99", "overhead max"), rows)
                + "\n" + Report.image("overhead", chart, options.docs());
        return new Section("5. System overhead", md, goals);
    }

    private Run measure(int batchWaitMs, double rate, int jobs) {
        EngineBench.log("overhead: batch wait %d ms, %d jobs at %.0f/s", batchWaitMs, jobs, rate);
        Path data;
        try {
            data = Files.createTempDirectory("oneway-bench-overhead-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (OnewaySystem system = OnewaySystem.builder().dataDir(data)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.MAX_BATCH_WAIT_MS, batchWaitMs)
                .set(Setting.JOBS_PER_MINUTE_PER_TENANT, 1_000_000)
                .start()) {
            SystemClient client = SystemClient.connect(system);
            Map<String, Long> submitted = new ConcurrentHashMap<>();
            Map<String, JsonObject> finished = client.finished;
            Map<String, Long> arrived = client.arrived;
            // a few unmeasured jobs first, so JIT, Kafka and the engine are warm
            int warmup = 5;
            Map<String, Long> warm = new ConcurrentHashMap<>();
            for (int i = 0; i < warmup; i++) {
                client.submit(body(i), warm::put);
            }
            SystemClient.waitUntil(() -> warm.size() == warmup && warm.keySet().stream().allMatch(finished::containsKey), 60);
            finished.clear();
            arrived.clear();
            long periodNanos = (long) (1e9 / rate);
            long start = System.nanoTime();
            for (int i = 0; i < jobs; i++) {
                long due = start + i * periodNanos;
                long sleep = due - System.nanoTime();
                if (sleep > 0) {
                    TimeUnit.NANOSECONDS.sleep(sleep);
                }
                client.submit(body(1000 + i), submitted::put);
            }
            SystemClient.waitUntil(() -> submitted.size() == jobs && submitted.keySet().stream().allMatch(arrived::containsKey), 120);
            List<Double> overhead = new ArrayList<>();
            List<Double> endToEnd = new ArrayList<>();
            List<Double> engine = new ArrayList<>();
            List<Double> queue = new ArrayList<>();
            List<Double> upload = new ArrayList<>();
            double batchSum = 0;
            for (Map.Entry<String, Long> e : submitted.entrySet()) {
                JsonObject frame = finished.get(e.getKey());
                if (frame == null) {
                    continue; // a warm-up job's frame
                }
                JsonObject timings = frame.getJsonObject("timings");
                double total = (arrived.get(e.getKey()) - e.getValue()) / 1e6;
                double engineMs = timings.getDouble("engineMs");
                endToEnd.add(total);
                engine.add(engineMs);
                overhead.add(total - engineMs);
                queue.add(timings.getDouble("queueMs"));
                upload.add(timings.getDouble("uploadMs"));
                batchSum += frame.getInteger("batchSize", 1);
            }
            return new Run(batchWaitMs, rate, overhead.size(), unbox(overhead), unbox(endToEnd), unbox(engine), unbox(queue),
                    unbox(upload), batchSum / overhead.size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonObject body(int seed) {
        return new JsonObject().put("prompt", "a lighthouse at dusk number " + seed).put("seed", seed);
    }

    static double[] unbox(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
