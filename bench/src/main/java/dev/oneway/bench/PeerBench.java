package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import dev.oneway.engine.tiny.RandomModels;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Goal 8: the engine against the authors' own Loopfree inference (tools/peer/run.sh: their loopfree.py and
 * se_parallel_utils.py with diffusers, PyTorch eager, float32, batch 1) on the same random-weight SD1.5 folder and
 * size, in alternation, round after round, each in its own process. The engine runs at batch 1 and at batch 2; the
 * batch policy of the worker forms the cheaper of them per image (it climbs past 2 only when 2 is cheaper than 1).
 * The engine also runs at batch 1 with {@code dtype bfloat16} (convolutions and linear layers in bfloat16),
 * against the same float32 runs of the authors' code: a ratio across precisions, stated as such.
 * With a libtorch folder (--peer-libtorch: the authors' PyTorch with DJL's JNI built against it) the engine also runs
 * on that libtorch at batch 1, which separates what the engine does from what the library version does.
 */
public final class PeerBench {

    /** The authors' per-image stage split, as tools/peer/loopfree_peer.py prints it. */
    private static final Pattern AUTHORS_STAGES = Pattern.compile("unet ([0-9.]+) s, vae ([0-9.]+) s");

    private final BenchOptions options;

    public PeerBench(BenchOptions options) {
        this.options = options;
    }

    /** Seconds per image, in all and by stage (NaN where a run does not split it). */
    private record Run(double total, double unet, double vae) {
        static double median(List<Run> runs, java.util.function.ToDoubleFunction<Run> field) {
            return Stats.median(runs.stream().mapToDouble(field).toArray());
        }
    }

    public Section run() {
        Path model = RandomModels.cached(RandomModels.Variant.SD15);
        Path libtorch = options.peerLibtorch();
        if (libtorch != null && !Files.isRegularFile(libtorch.resolve("libdjl_torch.so"))) {
            throw new IllegalArgumentException("--peer-libtorch " + libtorch + " holds no libdjl_torch.so: build it there "
                    + "with tools/libtorch/build.sh DJL_CHECKOUT PYTHON");
        }
        int rounds = options.peerRounds();
        List<List<String>> rows = new ArrayList<>();
        List<List<String>> stages = new ArrayList<>();
        List<Goal> goals = new ArrayList<>();
        for (int side : options.sizes()) {
            List<Run> authors = new ArrayList<>();
            List<Run> engine1 = new ArrayList<>();
            List<Run> engine2 = new ArrayList<>();
            List<Run> engineBf16 = new ArrayList<>();
            List<Run> sameLibtorch = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                EngineBench.log("peer: %dx%d round %d of %d: the authors' code", side, side, r + 1, rounds);
                authors.add(authors(model, side));
                EngineBench.log("peer: %dx%d round %d of %d: the engine, batch 1", side, side, r + 1, rounds);
                engine1.add(engine(side, 1, null, "float32"));
                EngineBench.log("peer: %dx%d round %d of %d: the engine, batch 2", side, side, r + 1, rounds);
                engine2.add(engine(side, 2, null, "float32"));
                EngineBench.log("peer: %dx%d round %d of %d: the engine in bfloat16, batch 1", side, side, r + 1, rounds);
                engineBf16.add(engine(side, 1, null, "bfloat16"));
                if (libtorch != null) {
                    EngineBench.log("peer: %dx%d round %d of %d: the engine on %s, batch 1", side, side, r + 1, rounds, libtorch);
                    sameLibtorch.add(engine(side, 1, libtorch, "float32"));
                }
            }
            double a = Run.median(authors, Run::total);
            double e1 = Run.median(engine1, Run::total);
            double e2 = Run.median(engine2, Run::total);
            double bf16 = Run.median(engineBf16, Run::total);
            int policyBatch = e2 < e1 ? 2 : 1;
            double policy = Math.min(e1, e2);
            double same = libtorch == null ? Double.NaN : Run.median(sameLibtorch, Run::total);
            rows.add(List.of(f("%dx%d", side, side), f("%.2f", a), f("%.2f", e1), f("%.2f", e2), f("%d", policyBatch),
                    f("**%.2f**", e1 / a), f("**%.2f**", policy / a), f("%.2f", bf16), f("**%.2f**", bf16 / a),
                    libtorch == null ? "-" : f("%.2f", same), libtorch == null ? "-" : f("**%.2f**", same / a), f("%d", rounds)));
            goals.add(new Goal("8", f("engine s/image / authors' s/image at %dx%d (batch 1; policy's batch %d)", side, side,
                    policyBatch), "<= 0.5", f("%.2f; %.2f", e1 / a, policy / a), e1 / a <= 0.5));
            goals.add(new Goal("8", f("engine in bfloat16 s/image / authors' (float32) s/image at %dx%d (batch 1)", side,
                    side), "<= 0.5", f("%.2f", bf16 / a), bf16 / a <= 0.5));
            if (libtorch != null) {
                goals.add(new Goal("8", f("the same on the authors' libtorch at %dx%d (batch 1)", side, side), "<= 0.5",
                        f("%.2f", same / a), same / a <= 0.5));
            }
            stages.add(stageRow(side, "the authors' code", authors));
            stages.add(stageRow(side, "engine, DJL's libtorch 2.7.1", engine1));
            stages.add(stageRow(side, "engine in bfloat16, DJL's libtorch 2.7.1", engineBf16));
            if (libtorch != null) {
                stages.add(stageRow(side, "engine, the authors' libtorch", sameLibtorch));
            }
        }
        String md = "The authors' inference (`tools/peer/run.sh`: their `loopfree.py` and `utils/se_parallel_utils.py` from a "
                + "Loopfree checkout, diffusers from its source, the machine's PyTorch wheel, float32, batch 1, their DDIM with K = 4) "
                + "and the engine on the same random-weight SD1.5 folder, alternating, each run its own process with one warm-up "
                + "image; seconds per image, median of the rounds. The policy's batch is the one the worker's batch policy "
                + "settles on between 1 and 2 from these figures. *bfloat16* is the engine at batch 1 with `ONEWAY_DTYPE=bfloat16` "
                + "(convolutions and linear layers compute in bfloat16, the rest in float32) against the same "
                + "float32 runs of the authors' code."
                + (libtorch == null ? "" : " *On the authors' libtorch* is the engine at batch 1 on the libtorch of the "
                + "authors' PyTorch (`" + libtorch + "`, DJL's JNI compiled against it by `tools/libtorch/build.sh`): the same "
                + "library on both sides.")
                + "\n\n"
                + Report.table(List.of("size", "authors s / image", "engine batch 1", "engine batch 2", "policy's batch",
                "engine / authors, batch 1", "engine / authors, policy's batch", "engine bfloat16, batch 1",
                "bfloat16 / authors", "engine on the authors' libtorch",
                "that / authors", "rounds"), rows)
                + "\n\nBy stage, seconds per image (medians). The authors' *UNet* is their `predict_original` (the encoder once, "
                + "the decoder over the K timesteps); the engine's is its denoising stage. *Rest* is the image's time less "
                + "UNet and VAE: the text encoder, noise, and for the engine the PNG. At 512x512 the authors' `inference()` "
                + "runs as one call.\n\n"
                + Report.table(List.of("size", "run", "s / image", "UNet", "VAE", "rest"), stages);
        return new Section("8. Peer: the authors' own code on the same folder", md, goals);
    }

    private static List<String> stageRow(int side, String name, List<Run> runs) {
        double total = Run.median(runs, Run::total);
        double unet = Run.median(runs, Run::unet);
        double vae = Run.median(runs, Run::vae);
        return List.of(f("%dx%d", side, side), name, f("%.2f", total), Double.isNaN(unet) ? "-" : f("%.2f", unet),
                Double.isNaN(vae) ? "-" : f("%.2f", vae), Double.isNaN(unet + vae) ? "-" : f("%.2f", total - unet - vae));
    }

    private Run engine(int side, int batch, Path libtorch, String dtype) {
        Map<String, String> env = libtorch == null ? Map.of() : Map.of("PYTORCH_LIBRARY_PATH", libtorch.toAbsolutePath().toString());
        try (ChildJvm probe = new ChildJvm("6g", env, List.of(), RealSizeProbe.class, "random-sd15", Integer.toString(side),
                "tiue", "1", options.quick() ? "1" : "2", Integer.toString(batch), dtype)) {
            RealSizeProbe.Result result = RealSizeProbe.Result.parse(probe.await("RESULT"));
            return new Run(result.sPerImage(), result.denoiseS(), result.vaeS());
        }
    }

    /** UNet and VAE seconds from one of tools/peer/loopfree_peer.py's image lines, if it splits them. */
    static java.util.Optional<double[]> authorsStages(String line) {
        Matcher m = AUTHORS_STAGES.matcher(line);
        return m.find() ? java.util.Optional.of(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))})
                : java.util.Optional.empty();
    }

    private Run authors(Path model, int side) {
        List<String> command = List.of("bash", Path.of("tools", "peer", "run.sh").toString(),
                options.peerLoopfree().toString(), options.peerDiffusers().toString(), model.toString(),
                Integer.toString(side), "1", options.quick() ? "1" : "2");
        try {
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String result = null;
            List<double[]> split = new ArrayList<>();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.startsWith("RESULT ")) {
                        result = line;
                    } else {
                        System.out.println("  [peer] " + line);
                        authorsStages(line).ifPresent(split::add);
                    }
                }
            }
            int exit = process.waitFor();
            if (result == null) {
                throw new IllegalStateException("tools/peer/run.sh ended (exit " + exit + ") without a RESULT line");
            }
            double total = Double.parseDouble(result.split("\\s+")[1]);
            if (split.isEmpty()) {
                return new Run(total, Double.NaN, Double.NaN);
            }
            return new Run(total, Stats.median(split.stream().mapToDouble(s -> s[0]).toArray()),
                    Stats.median(split.stream().mapToDouble(s -> s[1]).toArray()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run tools/peer/run.sh", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
