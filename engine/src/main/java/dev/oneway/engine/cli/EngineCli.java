package dev.oneway.engine.cli;

import dev.oneway.engine.Decoder;
import dev.oneway.engine.EngineOptions;
import dev.oneway.engine.GeneratedImage;
import dev.oneway.engine.GenerationRequest;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.engine.Sampler;
import dev.oneway.engine.StageTimings;
import dev.oneway.engine.TiueEngine;
import dev.oneway.engine.tiny.RandomModels;
import dev.oneway.engine.tiny.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * java -jar oneway-engine.jar generate|bench ... (see {@link #USAGE}). Models are a folder or one of
 * the generated ones: tiny, tiny-sd21 (small, for tests) and random-sd15, random-sd21 (real sizes,
 * random weights, for speed and memory figures).
 */
public final class EngineCli {

    static final String USAGE = """
            usage:
              generate --model <folder>|tiny|tiny-sd21 --prompt TEXT [--seed N] [--width W] [--height H]
                       [--steps K] [--sampler tiue|looped] [--decoder vae|taesd] [--device auto|cpu|gpu]
                       [--dtype auto|float32|float16|bfloat16] --out FILE.png
              bench    --model <folder>|tiny|tiny-sd21|random-sd15|random-sd21 [--batch 1,2,4] [--sampler tiue,looped]
                       [--steps K] [--width W] [--height H] [--decoder vae|taesd] [--repeats N] [--warmup N]
                       [--device ...] [--dtype ...] [--reexec yes|no]
            bench sets OMP_WAIT_POLICY=PASSIVE and glibc's allocator tunables (starting itself again when
            they are missing, unless --reexec no), warms up every sampler and batch, measures them in alternation for
            --repeats rounds, and prints one JSON line for its environment, then one per sampler and batch: medians,
            with msPerImageMin/Max and spreadPercent.""";

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.println(USAGE);
            return;
        }
        try {
            Map<String, String> opts = parse(Arrays.copyOfRange(args, 1, args.length));
            switch (args[0]) {
                case "generate" -> generate(opts);
                case "bench" -> BenchCommand.run(opts, args);
                default -> throw new IllegalArgumentException("unknown command '" + args[0] + "'");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        }
    }

    private static void generate(Map<String, String> o) throws Exception {
        String out = require(o, "out");
        String prompt = require(o, "prompt");
        try (TiueEngine engine = TiueEngine.load(resolveModel(require(o, "model")), options(o))) {
            GenerationRequest request = request(engine.defaults(), o, prompt);
            GeneratedImage image = engine.generate(List.of(request), (stage, done, total) ->
                    System.err.printf(Locale.ROOT, "  %s (%d/%d)%n", stage, done, total)).get(0);
            Path file = Path.of(out);
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            Files.write(file, image.png());
            StageTimings t = image.timings();
            System.out.printf(Locale.ROOT, "wrote %s (%dx%d, %d bytes) in %.0f ms: text %.0f, encoder %.0f, decoder %.0f, vae %.0f%n",
                    file, request.width(), request.height(), image.png().length, t.totalMs(), t.textMs(), t.encoderMs(),
                    t.decoderMs(), t.vaeMs());
        }
    }

    static GenerationRequest request(ModelDefaults d, Map<String, String> o, String prompt) {
        return new GenerationRequest(prompt,
                Long.parseLong(o.getOrDefault("seed", "0")),
                Integer.parseInt(o.getOrDefault("width", Integer.toString(d.width()))),
                Integer.parseInt(o.getOrDefault("height", Integer.toString(d.height()))),
                Integer.parseInt(o.getOrDefault("steps", Integer.toString(d.steps()))),
                Sampler.fromWireName(o.getOrDefault("sampler", d.sampler().wireName())),
                Decoder.fromWireName(o.getOrDefault("decoder", Decoder.VAE.wireName())));
    }

    static Path resolveModel(String model) {
        return switch (model) {
            case "tiny" -> TinyModels.cached(TinyModels.Variant.SD15);
            case "tiny-sd21" -> TinyModels.cached(TinyModels.Variant.SD21);
            case "random-sd15" -> RandomModels.cached(RandomModels.Variant.SD15);
            case "random-sd21" -> RandomModels.cached(RandomModels.Variant.SD21);
            default -> {
                Path dir = Path.of(model);
                if (!Files.isDirectory(dir)) {
                    throw new IllegalArgumentException("model '" + model
                            + "' is neither a folder nor one of tiny, tiny-sd21, random-sd15, random-sd21");
                }
                yield dir;
            }
        };
    }

    private static EngineOptions options(Map<String, String> o) {
        return new EngineOptions(o.get("device"), o.get("dtype"));
    }

    static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (Exception ignored) {
            // not on Linux: report -1 below
        }
        return -1;
    }

    static String require(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + key);
        }
        return v;
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
            }
            out.put(args[i].substring(2), args[++i]);
        }
        return out;
    }
}
