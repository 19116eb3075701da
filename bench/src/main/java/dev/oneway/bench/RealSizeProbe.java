package dev.oneway.bench;

import dev.oneway.engine.Sampler;
import dev.oneway.engine.StageTimings;
import dev.oneway.engine.TiueEngine;
import dev.oneway.engine.tiny.RandomModels;
import java.util.ArrayList;
import java.util.List;

/**
 * One real-size configuration in its own JVM, so its peak memory is its own: args model (random-sd15 or
 * random-sd21), side, sampler, warm-up runs, measured runs, and optionally the batch size (1) and the dtype
 * (float32 or bfloat16; float32). Prints
 * "RESULT loadS sPerImage denoiseS vaeS peakRssMb runs" (per image: a batch's time divided by its size).
 */
public final class RealSizeProbe {

    /** What the probe prints after "RESULT"; seconds per image are a batch's median time divided by its size. */
    record Result(double loadS, double sPerImage, double denoiseS, double vaeS, long peakRssMb, int runs) {

        /** The text after "RESULT" ({@link ChildJvm#await} hands it over trimmed). */
        static Result parse(String text) {
            String[] f = text.trim().split("\\s+");
            return new Result(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                    Double.parseDouble(f[3]), Long.parseLong(f[4]), Integer.parseInt(f[5]));
        }

        String line() {
            return Report.f("RESULT %.1f %.2f %.2f %.2f %d %d", loadS, sPerImage, denoiseS, vaeS, peakRssMb, runs);
        }
    }

    public static void main(String[] args) {
        RandomModels.Variant variant = args[0].equals("random-sd21") ? RandomModels.Variant.SD21 : RandomModels.Variant.SD15;
        int side = Integer.parseInt(args[1]);
        Sampler sampler = Sampler.fromWireName(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int repeats = Integer.parseInt(args[4]);
        int batch = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        String dtype = args.length > 6 ? args[6] : "float32";
        long loadStart = System.nanoTime();
        try (TiueEngine engine = EngineBench.load(RandomModels.cached(variant), null, dtype)) {
            double loadS = (System.nanoTime() - loadStart) / 1e9;
            for (int i = 0; i < warmup; i++) {
                EngineBench.once(engine, batch, side, sampler);
            }
            List<StageTimings> runs = new ArrayList<>();
            for (int i = 0; i < repeats; i++) {
                runs.add(EngineBench.once(engine, batch, side, sampler));
            }
            System.out.println(new Result(loadS,
                    Stats.median(runs.stream().mapToDouble(StageTimings::totalMs).toArray()) / 1000 / batch,
                    Stats.median(runs.stream().mapToDouble(StageTimings::denoiseMs).toArray()) / 1000 / batch,
                    Stats.median(runs.stream().mapToDouble(StageTimings::vaeMs).toArray()) / 1000 / batch,
                    Machine.peakRssMb(), runs.size()).line());
        }
        System.exit(0);
    }
}
