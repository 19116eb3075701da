package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.EngineOptions;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.engine.ProgressListener;
import dev.oneway.engine.Sampler;
import dev.oneway.engine.StageTimings;
import dev.oneway.engine.TiueEngine;
import dev.oneway.engine.TorchRuntime;
import dev.oneway.engine.model.ModelConfig;
import dev.oneway.engine.nn.Conv2d;
import dev.oneway.engine.tiny.RandomModels;
import dev.oneway.engine.tiny.TinyModels;
import dev.oneway.engine.unet.UNetConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Goals 1-3 in this JVM: TiUE against the looped sampler, cross-job batching, and the UNet's achieved
 * GFLOP/s against a large convolution's, with a per-op profile of the UNet pass.
 */
public final class EngineBench {

    static final int STEPS = 4;

    private final BenchOptions options;
    private final Path docs;

    public EngineBench(BenchOptions options) {
        this.options = options;
        this.docs = options.docs();
    }

    public List<Section> run() {
        List<Section> sections = new ArrayList<>();
        sections.add(threadSection(options.repeats(3)));
        Path tiny = TinyModels.cached(TinyModels.Variant.SD15);
        Path sd15 = RandomModels.cached(RandomModels.Variant.SD15);
        int tinySide = 64;
        int side = options.realSide();

        List<Comparison> comparisons = new ArrayList<>();
        try (TiueEngine engine = load(tiny, null)) {
            comparisons.add(compare(engine, "tiny (SD1.5-style)", tinySide, 1, options.repeats(9)));
            comparisons.add(compare(engine, "tiny (SD1.5-style)", tinySide, 4, options.repeats(9)));
        }
        Batching tinyBatching = batching(tiny, "tiny", tinySide, List.of(1, 2, 4, 8), options.repeats(7));
        Batching realBatching;
        Efficiency efficiency;
        try (TiueEngine engine = load(sd15, null)) {
            comparisons.add(compare(engine, "SD1.5 (random weights)", side, 1, options.repeats(3)));
            efficiency = efficiency(engine, sd15, side, comparisons.get(comparisons.size() - 1));
        }
        // batching at real size: batch 4 alone takes minutes per round on this CPU; --real-batching turns it on
        realBatching = options.realBatching() ? batching(sd15, "SD1.5", side, List.of(1, 4), 2) : null;
        sections.add(comparisonSection(comparisons));
        sections.add(batchingSection(tinyBatching, realBatching));
        sections.add(efficiencySection(efficiency));
        return sections;
    }

    static TiueEngine load(Path model, Boolean batchInvariant) {
        return load(model, batchInvariant, "float32");
    }

    static TiueEngine load(Path model, Boolean batchInvariant, String dtype) {
        return TiueEngine.load(model, new EngineOptions("cpu", dtype, batchInvariant));
    }

    static List<GenerationRequest> requests(int batch, int side, Sampler sampler) {
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            out.add(new GenerationRequest("a photo of a cat number " + i, 1000 + i, side, side, STEPS, sampler));
        }
        return out;
    }

    static StageTimings once(TiueEngine engine, int batch, int side, Sampler sampler) {
        return engine.generate(requests(batch, side, sampler), ProgressListener.NONE).get(0).timings();
    }

    // ---- thread settings ----

    private Section threadSection(int rounds) {
        TorchRuntime.engine(); // loads the native library the thread count is read from
        int cores = Runtime.getRuntime().availableProcessors();
        record Setting(String name, Map<String, String> env, List<String> flags) { }
        List<Setting> settings = List.of(
                new Setting(f("%d threads, OpenMP default wait (spins before sleeping)", cores), Map.of("OMP_WAIT_POLICY", ""),
                        List.of("-Dai.djl.pytorch.num_threads=" + cores)),
                new Setting(f("%d threads, OMP_WAIT_POLICY=PASSIVE", cores), Map.of("OMP_WAIT_POLICY", "PASSIVE"),
                        List.of("-Dai.djl.pytorch.num_threads=" + cores)),
                new Setting("1 thread, OMP_WAIT_POLICY=PASSIVE", Map.of("OMP_WAIT_POLICY", "PASSIVE"),
                        List.of("-Dai.djl.pytorch.num_threads=1")));
        double[][] ms = new double[settings.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < settings.size(); i++) {
                Setting s = settings.get(i);
                log("threads: %s (round %d of %d)", s.name(), r + 1, rounds);
                try (ChildJvm probe = new ChildJvm("1g", s.env(), s.flags(), ThreadProbe.class, "9")) {
                    ms[i][r] = Double.parseDouble(probe.await("RESULT"));
                }
            }
        }
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < settings.size(); i++) {
            rows.add(List.of(settings.get(i).name(), f("%.1f", Stats.median(ms[i])), f("%.2f", Stats.median(ms[i]) / Stats.median(ms[0]))));
        }
        String md = f("PyTorch's CPU kernels run on an OpenMP pool (one thread per core by default). On a machine shared with "
                + "other busy processes, threads that spin while waiting for their team make every op slow. Tiny model, TiUE, "
                + "batch 1, 64x64: median ms per image (9 images after 3 warm-ups, each setting in its own JVM, settings "
                + "alternating, %d rounds, median of rounds). The rest of this run uses this JVM's setting: %d PyTorch "
                + "threads, OMP_WAIT_POLICY=%s.%n%n", rounds, ai.djl.pytorch.jni.JniUtils.getNumThreads(),
                System.getenv().getOrDefault("OMP_WAIT_POLICY", "(unset)"))
                + Report.table(List.of("setting", "ms / image", "vs default"), rows);
        return new Section("0. Engine: thread settings", md, List.of());
    }

    // ---- goal 1 ----

    record Comparison(String model, int side, int batch, List<StageTimings> tiue, List<StageTimings> looped,
                      double denoiseRatio, double wholeRatio) {
        double median(List<StageTimings> runs, ToDoubleFunction<StageTimings> field) {
            return Stats.median(runs.stream().mapToDouble(field).toArray());
        }
    }

    /** TiUE and looped alternately, so both see the same load; the ratio of each pair, then the median. */
    private Comparison compare(TiueEngine engine, String model, int side, int batch, int repeats) {
        log("TiUE vs looped: %s %dx%d batch %d, %d pairs", model, side, side, batch, repeats);
        once(engine, batch, side, Sampler.TIUE);
        once(engine, batch, side, Sampler.LOOPED);
        List<StageTimings> tiue = new ArrayList<>();
        List<StageTimings> looped = new ArrayList<>();
        double[] denoise = new double[repeats];
        double[] whole = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            StageTimings t = once(engine, batch, side, Sampler.TIUE);
            StageTimings l = once(engine, batch, side, Sampler.LOOPED);
            tiue.add(t);
            looped.add(l);
            denoise[r] = t.denoiseMs() / l.denoiseMs();
            whole[r] = t.totalMs() / l.totalMs();
        }
        return new Comparison(model, side, batch, tiue, looped, Stats.median(denoise), Stats.median(whole));
    }

    private Section comparisonSection(List<Comparison> comparisons) {
        List<List<String>> rows = new ArrayList<>();
        List<String> categories = new ArrayList<>();
        List<Double> tiueDenoise = new ArrayList<>();
        List<Double> loopedDenoise = new ArrayList<>();
        for (Comparison c : comparisons) {
            String config = f("%s, %dx%d, batch %d", c.model(), c.side(), c.side(), c.batch());
            for (boolean isTiue : new boolean[] {true, false}) {
                List<StageTimings> runs = isTiue ? c.tiue() : c.looped();
                rows.add(List.of(config, isTiue ? "tiue" : "looped", Integer.toString(runs.size()),
                        f("%.1f", c.median(runs, StageTimings::encoderMs)), f("%.1f", c.median(runs, StageTimings::decoderMs)),
                        f("%.1f", c.median(runs, StageTimings::denoiseMs)), f("%.1f", c.median(runs, StageTimings::vaeMs)),
                        f("%.1f", c.median(runs, StageTimings::totalMs)),
                        isTiue ? f("**%.2f**", c.denoiseRatio()) : "", isTiue ? f("%.2f", c.wholeRatio()) : ""));
            }
            categories.add(f("%s %d px b%d", c.model().split(" ")[0], c.side(), c.batch()));
            tiueDenoise.add(c.denoiseRatio());
            loopedDenoise.add(1.0);
        }
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("looped (= 1)", loopedDenoise);
        series.put("tiue", tiueDenoise);
        Path chart = Charts.bars(docs.resolve("bench-tiue-vs-looped.png"), "Denoising time, TiUE / looped (K=4, lower is better)",
                "fraction of looped", categories, series);
        String md = "K = 4 steps, float32 on the CPU. Per configuration one warm-up of each sampler, then TiUE and looped "
                + "alternately; the ratios are medians of the per-pair ratios. Stage times in ms (medians). For the looped "
                + "sampler *encoder* and *decoder* are the sums over the K full UNet passes.\n\n"
                + Report.table(List.of("configuration", "sampler", "runs", "encoder", "decoder", "denoise", "vae", "whole image",
                "denoise / looped", "whole / looped"), rows)
                + "\n" + Report.image("TiUE vs looped", chart, docs);
        List<Goal> goals = new ArrayList<>();
        for (Comparison c : comparisons) {
            goals.add(new Goal("1", f("TiUE denoising / looped, %s %d px batch %d", c.model(), c.side(), c.batch()), "<= 0.75",
                    f("%.2f (whole image %.2f)", c.denoiseRatio(), c.wholeRatio()), c.denoiseRatio() <= 0.75));
        }
        return new Section("1. Engine: TiUE vs looped", md, goals);
    }

    // ---- goal 2 ----

    record Batching(String model, int side, List<Integer> batches, Map<Boolean, double[]> imagesPerSecond,
                    Map<Boolean, double[]> speedupPerImage, int rounds) { }

    /**
     * Images per second of the TiUE sampler at each batch size, with per-image convolutions on (the CPU
     * default: a job's bytes never depend on its batch) and off. Each round runs every batch size once;
     * speed-ups are per-round ratios to batch 1, then medians.
     */
    private Batching batching(Path model, String name, int side, List<Integer> batches, int rounds) {
        Map<Boolean, double[]> ips = new LinkedHashMap<>();
        Map<Boolean, double[]> speedup = new LinkedHashMap<>();
        for (boolean invariant : new boolean[] {true, false}) {
            log("batching: %s %dx%d batchInvariant=%s, %d rounds", name, side, side, invariant, rounds);
            try (TiueEngine engine = load(model, invariant)) {
                for (int b : batches) {
                    once(engine, b, side, Sampler.TIUE);
                }
                double[][] perRound = new double[batches.size()][rounds];
                for (int r = 0; r < rounds; r++) {
                    for (int i = 0; i < batches.size(); i++) {
                        int b = batches.get(i);
                        perRound[i][r] = b * 1000.0 / once(engine, b, side, Sampler.TIUE).totalMs();
                    }
                }
                double[] medianIps = new double[batches.size()];
                double[] medianSpeedup = new double[batches.size()];
                for (int i = 0; i < batches.size(); i++) {
                    medianIps[i] = Stats.median(perRound[i]);
                    double[] ratios = new double[rounds];
                    for (int r = 0; r < rounds; r++) {
                        ratios[r] = perRound[i][r] / perRound[0][r];
                    }
                    medianSpeedup[i] = Stats.median(ratios);
                }
                ips.put(invariant, medianIps);
                speedup.put(invariant, medianSpeedup);
            }
        }
        return new Batching(name, side, batches, ips, speedup, rounds);
    }

    private Section batchingSection(Batching tiny, Batching real) {
        StringBuilder md = new StringBuilder("TiUE sampler, K = 4. *Per-image convolutions* is `EngineOptions.batchInvariant` "
                + "(on by default on the CPU: a job's PNG bytes are the same whatever its batch mates; off: one convolution "
                + "call per layer for the whole batch). Images/s are medians over rounds; the per-image speed-up is the "
                + "median of per-round ratios to batch 1 of the same setting.\n\n");
        List<Goal> goals = new ArrayList<>();
        for (Batching b : real == null ? List.of(tiny) : List.of(tiny, real)) {
            List<List<String>> rows = new ArrayList<>();
            for (int i = 0; i < b.batches().size(); i++) {
                rows.add(List.of(Integer.toString(b.batches().get(i)),
                        f("%.2f", b.imagesPerSecond().get(true)[i]), f("%.2fx", b.speedupPerImage().get(true)[i]),
                        f("%.2f", b.imagesPerSecond().get(false)[i]), f("%.2fx", b.speedupPerImage().get(false)[i])));
            }
            md.append(f("**%s, %dx%d** (%d rounds)\n\n", b.model(), b.side(), b.side(), b.rounds()));
            md.append(Report.table(List.of("batch", "images/s, per-image convs", "per image vs batch 1",
                    "images/s, batched convs", "per image vs batch 1"), rows)).append('\n');
            Map<String, List<Double>> series = new LinkedHashMap<>();
            series.put("per-image convolutions (default)", boxed(b.imagesPerSecond().get(true)));
            series.put("batched convolutions", boxed(b.imagesPerSecond().get(false)));
            Path chart = Charts.bars(docs.resolve("bench-batching-" + b.model().toLowerCase().replace(".", "") + ".png"),
                    f("TiUE images/s by batch size, %s %dx%d", b.model(), b.side(), b.side()), "images/s",
                    b.batches().stream().map(x -> "batch " + x).toList(), series);
            md.append(Report.image("batching " + b.model(), chart, docs)).append('\n');
            int four = b.batches().indexOf(4);
            if (four >= 0) {
                for (boolean invariant : new boolean[] {true, false}) {
                    double s = b.speedupPerImage().get(invariant)[four];
                    goals.add(new Goal("2", f("batch 4 vs batch 1 per image, %s %d px, %s", b.model(), b.side(),
                            invariant ? "per-image convs (default)" : "batched convs"), ">= 1.2x", f("%.2fx", s), s >= 1.2));
                }
            }
        }
        return new Section("2. Engine: cross-job batching", md.toString(), goals);
    }

    // ---- goal 3 ----

    record Efficiency(int side, double loopedGflops, double tiueGflops, double convGflops, String convShape,
                      double unetPassMs, OpProfile.Result profile, double passFlops) { }

    private Efficiency efficiency(TiueEngine engine, Path model, int side, Comparison measured) {
        UNetConfig config = UNetConfig.read(ModelConfig.read(model, "unet/config.json"));
        int latent = side / 8;
        double encoder1 = UNetOps.flops(UNetOps.encoder(config, 1, latent, latent));
        double decoder1 = UNetOps.flops(UNetOps.decoder(config, 1, latent, latent));
        double decoderK = UNetOps.flops(UNetOps.decoder(config, STEPS, latent, latent));
        double loopedMs = measured.median(measured.looped(), t -> t.encoderMs() + t.decoderMs());
        double tiueMs = measured.median(measured.tiue(), t -> t.encoderMs() + t.decoderMs());
        double loopedGflops = STEPS * (encoder1 + decoder1) / loopedMs / 1e6;
        double tiueGflops = (encoder1 + decoderK) / tiueMs / 1e6;

        log("efficiency: large convolution and per-op profile at %dx%d", side, side);
        double convGflops;
        String convShape = "[1, 320, 64, 64] * [320, 320, 3, 3]";
        OpProfile.Result profile;
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            Conv2d conv = Conv2d.of(m.randomNormal(new Shape(320, 320, 3, 3)).muli(0.02f), m.zeros(new Shape(320)), 1, 1, true);
            NDArray x = m.randomNormal(new Shape(1, 320, 64, 64));
            double flops = 2.0 * 320 * 320 * 9 * 64 * 64;
            double[] ms = new double[options.repeats(9)];
            for (int r = -2; r < ms.length; r++) {
                long start = System.nanoTime();
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    conv.forward(x);
                }
                if (r >= 0) {
                    ms[r] = (System.nanoTime() - start) / 1e6;
                }
            }
            convGflops = flops / Stats.median(ms) / 1e6;
            List<UNetOps.Op> pass = new ArrayList<>(UNetOps.encoder(config, 1, latent, latent));
            pass.addAll(UNetOps.decoder(config, 1, latent, latent));
            profile = new OpProfile(m, true, options.repeats(3)).profile(pass);
        }
        return new Efficiency(side, loopedGflops, tiueGflops, convGflops, convShape, loopedMs / STEPS, profile,
                encoder1 + decoder1);
    }

    private Section efficiencySection(Efficiency e) {
        double ratio = e.loopedGflops() / e.convGflops();
        double tiueRatio = e.tiueGflops() / e.convGflops();
        List<List<String>> rows = new ArrayList<>();
        double opsMs = e.profile().totalMs();
        for (UNetOps.Kind kind : e.profile().ms().keySet()) {
            double ms = e.profile().ms().get(kind);
            double flops = e.profile().flops().get(kind);
            rows.add(List.of(kind.name().toLowerCase().replace('_', ' '), Integer.toString(e.profile().count().get(kind)),
                    f("%.1f", flops / 1e9), f("%.1f", ms), f("%.0f%%", 100 * ms / e.unetPassMs()),
                    flops > 0 ? f("%.1f", flops / ms / 1e6) : "-"));
        }
        double glue = e.unetPassMs() - opsMs;
        rows.add(List.of("glue (activations, additions, concat, reshapes; pass minus ops)", "-", "-",
                glue >= 0 ? f("%.1f", glue) : f("n/a: ops alone sum to %.1f more than the pass (timing noise)", -glue),
                glue >= 0 ? f("%.0f%%", 100 * glue / e.unetPassMs()) : "-", "-"));
        rows.add(List.of("**measured UNet pass** (looped, per step)", "-", f("%.1f", e.passFlops() / 1e9),
                f("%.1f", e.unetPassMs()), "100%", f("%.1f", e.passFlops() / e.unetPassMs() / 1e6)));
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("GFLOP/s", List.of(e.convGflops(), e.loopedGflops(), e.tiueGflops()));
        Path chart = Charts.bars(docs.resolve("bench-efficiency.png"), f("Achieved GFLOP/s, SD1.5 UNet at %dx%d", e.side(), e.side()),
                "GFLOP/s", List.of("large conv2d", "UNet (looped pass)", "UNet (TiUE enc + K dec)"), series);
        String md = f("SD1.5 UNet (random weights) at %dx%d, batch 1, float32. FLOPs are counted from unet/config.json "
                + "(`UNetOps`: convolutions, linear layers and the two attention matmuls; a multiply-add is 2 FLOPs): "
                + "%.1f GFLOP per UNet pass. UNet time is the encoder + decoder stage time of goal 1's runs (medians). "
                + "The reference is one convolution %s through the same engine code (`nn.Conv2d`) in the same process: "
                + "**%.1f GFLOP/s**.\n\n", e.side(), e.side(), e.passFlops() / 1e9, e.convShape(), e.convGflops())
                + Report.table(List.of("", "GFLOP/s", "of the large conv"), List.of(
                        List.of("large conv2d", f("%.1f", e.convGflops()), "100%"),
                        List.of("UNet, looped sampler (K full passes)", f("%.1f", e.loopedGflops()), f("**%.0f%%**", 100 * ratio)),
                        List.of("UNet, TiUE (encoder at B + decoder at K x B)", f("%.1f", e.tiueGflops()), f("%.0f%%", 100 * tiueRatio))))
                + "\n" + Report.image("efficiency", chart, docs)
                + "\n**Where one UNet pass spends its time.** Every op of the pass run alone through the engine's nn classes "
                + "at the pass's shapes (medians), summed per kind; *glue* is what the measured pass takes beyond the ops.\n\n"
                + Report.table(List.of("op kind", "ops", "GFLOP", "ms", "share of pass", "GFLOP/s"), rows);
        return new Section("3. Engine: efficiency", md, List.of(
                new Goal("3", f("UNet GFLOP/s vs large conv2d (SD1.5, %d px, looped)", e.side()), ">= 70%",
                        f("%.0f%% (%.1f vs %.1f GFLOP/s); TiUE %.0f%%", 100 * ratio, e.loopedGflops(), e.convGflops(), 100 * tiueRatio),
                        ratio >= 0.7)));
    }

    private static List<Double> boxed(double[] values) {
        List<Double> out = new ArrayList<>();
        for (double v : values) {
            out.add(v);
        }
        return out;
    }

    static void log(String pattern, Object... args) {
        System.out.println("[bench] " + f(pattern, args));
    }
}
