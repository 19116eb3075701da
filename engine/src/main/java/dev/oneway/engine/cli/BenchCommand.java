package dev.oneway.engine.cli;

import dev.oneway.engine.EngineOptions;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.Sampler;
import dev.oneway.engine.StageTimings;
import dev.oneway.engine.TiueEngine;
import dev.oneway.engine.TorchRuntime;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * {@code bench}: seconds per image that come out the same twice. The threading environment is the tool's own: it
 * re-executes itself with {@link TorchRuntime#CPU_ENVIRONMENT} (OMP_WAIT_POLICY=PASSIVE, glibc's allocator tunables) when
 * they are missing
 * (libtorch reads them when it loads, so they cannot be set later) and prints what it ran with. Every sampler and
 * batch size gets its own warm-up (the first run of a shape pays for oneDNN's primitives and the allocator's
 * growth), then the configurations are measured in alternation, round after round, so a machine whose load
 * changes meanwhile shifts all of them alike; each line reports the median with the spread (min and max).
 */
final class BenchCommand {

    /** Set in the re-executed child, so it never re-executes again. */
    static final String REEXECUTED = "ONEWAY_BENCH_REEXECUTED";

    private BenchCommand() { }

    static void run(Map<String, String> o, String[] originalArgs) throws Exception {
        Map<String, String> missing = TorchRuntime.missingCpuEnvironment(System.getenv());
        if (!missing.isEmpty() && !"no".equals(o.get("reexec")) && System.getenv(REEXECUTED) == null) {
            System.exit(reexecute(missing, originalArgs));
        }
        int[] batches = Arrays.stream(o.getOrDefault("batch", "1,2,4").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        List<Sampler> samplers = new ArrayList<>();
        for (String s : o.getOrDefault("sampler", "tiue,looped").split(",")) {
            samplers.add(Sampler.fromWireName(s.trim()));
        }
        int repeats = Integer.parseInt(o.getOrDefault("repeats", "3"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "1"));
        String model = EngineCli.require(o, "model");
        double loadBefore = loadAverage();
        try (TiueEngine engine = TiueEngine.load(EngineCli.resolveModel(model), new EngineOptions(o.get("device"), o.get("dtype")))) {
            System.out.println(environmentLine(missing, loadBefore));
            List<Config> configs = new ArrayList<>();
            for (int batch : batches) {
                for (Sampler sampler : samplers) {
                    configs.add(new Config(sampler, batch, requests(engine, o, sampler, batch)));
                }
            }
            for (Config c : configs) {
                for (int i = 0; i < warmup; i++) {
                    engine.generate(c.requests, ProgressListener.NONE);
                }
            }
            for (int r = 0; r < repeats; r++) {
                // each round starts with another configuration, so none is always the one after a pause
                for (int j = 0; j < configs.size(); j++) {
                    Config c = configs.get((j + r) % configs.size());
                    c.runs.add(engine.generate(c.requests, ProgressListener.NONE).get(0).timings());
                }
            }
            for (Config c : configs) {
                System.out.println(resultLine(model, engine, c, warmup));
            }
            System.out.printf(Locale.ROOT, "{\"loadAverageAfter\":%.2f}%n", loadAverage());
        }
    }

    private record Config(Sampler sampler, int batch, List<GenerationRequest> requests, List<StageTimings> runs) {
        Config(Sampler sampler, int batch, List<GenerationRequest> requests) {
            this(sampler, batch, requests, new ArrayList<>());
        }
    }

    private static List<GenerationRequest> requests(TiueEngine engine, Map<String, String> o, Sampler sampler, int batch) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            Map<String, String> one = new LinkedHashMap<>(o);
            one.put("sampler", sampler.wireName());
            one.put("seed", Integer.toString(1000 + i));
            requests.add(EngineCli.request(engine.defaults(), one, "a photo of a cat number " + i));
        }
        return requests;
    }

    /** Runs this same command in a JVM with the environment set; returns its exit code. */
    private static int reexecute(Map<String, String> missing, String[] args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), EngineCli.class.getName()));
        command.addAll(List.of(args));
        System.err.println("bench: setting " + missing + " (read by libtorch when it loads) and starting again; "
                + "--reexec no measures as it is");
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().putAll(missing);
        builder.environment().put(REEXECUTED, "1");
        Process child = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(child::destroy)); // stopping this JVM stops the measurement
        return child.waitFor();
    }

    private static String environmentLine(Map<String, String> missing, double loadBefore) {
        Map<String, String> env = System.getenv();
        return String.format(Locale.ROOT, "{\"environment\":{\"OMP_WAIT_POLICY\":\"%s\",\"GLIBC_TUNABLES\":\"%s\","
                        + "\"OMP_NUM_THREADS\":\"%s\",\"torchThreads\":%d,\"torchInteropThreads\":%d,\"cpus\":%d,"
                        + "\"reexecuted\":%b,\"asRequired\":%b,\"loadAverageBefore\":%.2f}}",
                env.getOrDefault("OMP_WAIT_POLICY", "(unset)"), env.getOrDefault("GLIBC_TUNABLES", "(unset)"),
                env.getOrDefault("OMP_NUM_THREADS", "(unset)"), ai.djl.pytorch.jni.JniUtils.getNumThreads(),
                ai.djl.pytorch.jni.JniUtils.getNumInteropThreads(), Runtime.getRuntime().availableProcessors(),
                env.containsKey(REEXECUTED), missing.isEmpty() || env.containsKey(REEXECUTED), loadBefore);
    }

    private static String resultLine(String model, TiueEngine engine, Config c, int warmup) {
        GenerationRequest first = c.requests.get(0);
        double batchMs = median(c.runs, StageTimings::totalMs);
        double min = c.runs.stream().mapToDouble(StageTimings::totalMs).min().orElse(Double.NaN);
        double max = c.runs.stream().mapToDouble(StageTimings::totalMs).max().orElse(Double.NaN);
        return String.format(Locale.ROOT,
                "{\"model\":\"%s\",\"device\":\"%s\",\"dtype\":\"%s\",\"sampler\":\"%s\",\"batch\":%d,\"steps\":%d,"
                        + "\"width\":%d,\"height\":%d,\"warmup\":%d,\"repeats\":%d,\"imagesPerSecond\":%.4f,\"msPerImage\":%.2f,"
                        + "\"msPerImageMin\":%.2f,\"msPerImageMax\":%.2f,\"spreadPercent\":%.1f,"
                        + "\"batchMs\":%.2f,\"textMs\":%.2f,\"encoderMs\":%.2f,\"decoderMs\":%.2f,\"schedulerMs\":%.2f,"
                        + "\"denoiseMs\":%.2f,\"vaeMs\":%.2f,\"peakRssMb\":%d}",
                model, engine.device(), engine.precision(), c.sampler.wireName(), c.batch,
                first.steps(), first.width(), first.height(), warmup, c.runs.size(), c.batch * 1000.0 / batchMs,
                batchMs / c.batch, min / c.batch, max / c.batch, 100 * (max - min) / batchMs, batchMs,
                median(c.runs, StageTimings::textMs), median(c.runs, StageTimings::encoderMs),
                median(c.runs, StageTimings::decoderMs), median(c.runs, StageTimings::schedulerMs),
                median(c.runs, StageTimings::denoiseMs), median(c.runs, StageTimings::vaeMs), EngineCli.peakRssMb());
    }

    static double median(List<StageTimings> runs, ToDoubleFunction<StageTimings> stage) {
        double[] v = runs.stream().mapToDouble(stage).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split("\\s+")[0]);
        } catch (Exception e) {
            return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        }
    }
}
