package dev.oneway.bench;

import dev.oneway.engine.Sampler;
import dev.oneway.engine.TiueEngine;
import dev.oneway.engine.tiny.TinyModels;

/**
 * The tiny model's TiUE image (batch 1) under one thread setting, in its own JVM because PyTorch reads its
 * thread count and OpenMP its wait policy once per process. Prints "RESULT medianMs".
 */
public final class ThreadProbe {

    public static void main(String[] args) {
        int runs = Integer.parseInt(args[0]);
        try (TiueEngine engine = EngineBench.load(TinyModels.cached(TinyModels.Variant.SD15), null)) {
            for (int i = 0; i < 3; i++) {
                EngineBench.once(engine, 1, 64, Sampler.TIUE);
            }
            double[] ms = new double[runs];
            for (int i = 0; i < runs; i++) {
                ms[i] = EngineBench.once(engine, 1, 64, Sampler.TIUE).totalMs();
            }
            System.out.println(Report.f("RESULT %.2f", Stats.median(ms)));
        }
        System.exit(0);
    }
}
