package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import dev.oneway.engine.tiny.RandomModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Goal 7: the SD1.5 and SD2.1-base architectures (random weights, real diffusers layout) at batch 1 with
 * both samplers: seconds per image and peak resident memory, each configuration in its own JVM.
 */
public final class RealSizeBench {

    private final BenchOptions options;

    public RealSizeBench(BenchOptions options) {
        this.options = options;
    }

    public Section run() {
        List<String> models = options.quick() ? List.of("random-sd15") : List.of("random-sd15", "random-sd21");
        List<List<String>> rows = new ArrayList<>();
        Map<String, List<Double>> series = new LinkedHashMap<>();
        List<String> categories = new ArrayList<>();
        for (String model : models) {
            // written once (several GB) before anything is timed
            RandomModels.cached(model.equals("random-sd21") ? RandomModels.Variant.SD21 : RandomModels.Variant.SD15);
            for (int side : options.sizes()) {
                int warmup = options.quick() ? 0 : 1;
                int repeats = options.quick() || side >= 512 ? 1 : 2;
                categories.add(f("%s %d", model.equals("random-sd21") ? "SD2.1-base" : "SD1.5", side));
                for (String sampler : List.of("tiue", "looped")) {
                    EngineBench.log("real size: %s %dx%d %s (%d warm-up, %d measured)", model, side, side, sampler, warmup, repeats);
                    RealSizeProbe.Result r;
                    try (ChildJvm probe = new ChildJvm("2g", RealSizeProbe.class, model, Integer.toString(side), sampler,
                            Integer.toString(warmup), Integer.toString(repeats))) {
                        r = RealSizeProbe.Result.parse(probe.await("RESULT"));
                    }
                    rows.add(List.of(model.equals("random-sd21") ? "SD2.1-base" : "SD1.5", f("%dx%d", side, side), sampler,
                            f("**%.2f**", r.sPerImage()), f("%.2f", r.denoiseS()), f("%.2f", r.vaeS()), f("%d", r.peakRssMb()),
                            f("%.1f", r.loadS()), f("%d + %d", warmup, r.runs())));
                    series.computeIfAbsent(sampler, k -> new ArrayList<>()).add(r.sPerImage());
                }
            }
        }
        Path chart = Charts.bars(options.docs().resolve("bench-real-size.png"), "Seconds per image, batch 1, K = 4, CPU float32",
                "s / image", categories, series);
        String md = f("Random weights in the real architectures (`engine/.../tiny/RandomModels`: SD1.5 and SD2.1-base configs, "
                + "diffusers layout), float32 on the CPU, batch 1, K = 4. Each row is its own JVM (peak RSS = VmHWM, including "
                + "the weights). Runs: warm-up + measured; s/image is the median of the measured runs.%s%n%n",
                options.sizes().contains(512) ? "" : " 512x512 was skipped in this run (`--skip-512`).")
                + Report.table(List.of("model", "size", "sampler", "s / image", "denoise s", "VAE s", "peak RSS MiB", "load s",
                "runs"), rows)
                + "\n" + Report.image("real size", chart, options.docs());
        return new Section("7. Real-size shapes on this CPU", md, List.of(new Goal("7", "SD1.5 / SD2.1-base seconds per image "
                + "and peak memory", "reported", "see section 7", null)));
    }
}
