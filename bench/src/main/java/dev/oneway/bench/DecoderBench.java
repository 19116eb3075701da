package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.oneway.engine.TorchRuntime;
import dev.oneway.engine.model.ModelFolder;
import dev.oneway.engine.sampler.TorchNoise;
import dev.oneway.engine.tiny.TinyModels;
import dev.oneway.engine.vae.AutoencoderKLDecoder;
import dev.oneway.engine.vae.AutoencoderTinyDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The full VAE against TAESD: SD's real-size AutoencoderKL decoder and the published TAESD decoder (random
 * weights, same arithmetic), float32 on the CPU, batch 1, one warm-up then the median of the measured runs.
 * Prints a Markdown table; nothing is asserted.
 *
 * <pre>java -Dai.djl.offline=true -cp bench/target/oneway-bench.jar dev.oneway.bench.DecoderBench [runs] [sides...]</pre>
 */
public final class DecoderBench {

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int[] sides = args.length > 1 ? Arrays.stream(args).skip(1).mapToInt(Integer::parseInt).toArray()
                : new int[] {256, 512};
        Path dir = TinyModels.writeRealSizeDecoders(Files.createTempDirectory("oneway-decoders"));
        List<List<String>> rows = new ArrayList<>();
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            AutoencoderKLDecoder vae = ModelFolder.loadVae(dir, manager, DataType.FLOAT32, true);
            AutoencoderTinyDecoder taesd = ModelFolder.loadTaesd(dir, null, manager, DataType.FLOAT32, true);
            for (int side : sides) {
                int h = side / vae.upscale();
                float[] noise = TorchNoise.randn(side, 4 * h * h);
                double vaeMs = median(manager, noise, h, runs, vae::decode);
                double taesdMs = median(manager, noise, h, runs, taesd::decode);
                rows.add(List.of(f("%dx%d", side, side), f("%.0f", vaeMs), f("%.0f", taesdMs),
                        f("%.1fx", vaeMs / taesdMs), f("1 + %d", runs)));
                System.out.printf("[decoders] %dx%d: VAE %.0f ms, TAESD %.0f ms%n", side, side, vaeMs, taesdMs);
            }
        }
        System.out.println();
        System.out.println(Report.table(List.of("size", "VAE ms", "TAESD ms", "VAE / TAESD", "runs"), rows));
        System.out.println("load average: " + Machine.loadAverage());
        System.exit(0);
    }

    private static double median(NDManager manager, float[] noise, int h, int runs, Function<NDArray, NDArray> decode) {
        double[] ms = new double[runs];
        for (int i = -1; i < runs; i++) {
            try (NDManager m = manager.newSubManager()) {
                NDArray latents = m.create(noise, new Shape(1, 4, h, h));
                long start = System.nanoTime();
                decode.apply(latents).toFloatArray();
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - start) / 1e6;
                }
            }
        }
        Arrays.sort(ms);
        return ms[runs / 2];
    }
}
