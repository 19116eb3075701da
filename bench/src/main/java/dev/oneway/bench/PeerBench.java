package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import dev.oneway.engine.tiny.RandomModels;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Goal 8: the engine against the authors' own Loopfree inference (tools/peer/run.sh: their loopfree.py and
 * se_parallel_utils.py with diffusers, PyTorch eager, float32, batch 1) on the same random-weight SD1.5 folder and
 * size, in alternation, round after round, each in its own process. The engine runs at batch 1 and at batch 2; the
 * batch policy of the worker forms the cheaper of them per image (it climbs past 2 only when 2 is cheaper than 1).
 */
public final class PeerBench {

    private final BenchOptions options;

    public PeerBench(BenchOptions options) {
        this.options = options;
    }

    public Section run() {
        Path model = RandomModels.cached(RandomModels.Variant.SD15);
        int rounds = options.peerRounds();
        List<List<String>> rows = new ArrayList<>();
        List<Goal> goals = new ArrayList<>();
        for (int side : options.sizes()) {
            List<Double> authors = new ArrayList<>();
            List<Double> engine1 = new ArrayList<>();
            List<Double> engine2 = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                EngineBench.log("peer: %dx%d round %d of %d: the authors' code", side, side, r + 1, rounds);
                authors.add(authors(model, side));
                EngineBench.log("peer: %dx%d round %d of %d: the engine, batch 1", side, side, r + 1, rounds);
                engine1.add(engine(side, 1));
                EngineBench.log("peer: %dx%d round %d of %d: the engine, batch 2", side, side, r + 1, rounds);
                engine2.add(engine(side, 2));
            }
            double a = Stats.median(authors);
            double e1 = Stats.median(engine1);
            double e2 = Stats.median(engine2);
            int policyBatch = e2 < e1 ? 2 : 1;
            double policy = Math.min(e1, e2);
            rows.add(List.of(f("%dx%d", side, side), f("%.2f", a), f("%.2f", e1), f("%.2f", e2), f("%d", policyBatch),
                    f("**%.2f**", e1 / a), f("**%.2f**", policy / a), f("%d", rounds)));
            goals.add(new Goal("8", f("engine s/image / authors' s/image at %dx%d (batch 1; policy's batch %d)", side, side,
                    policyBatch), "<= 0.5", f("%.2f; %.2f", e1 / a, policy / a), e1 / a <= 0.5));
        }
        String md = "The authors' inference (`tools/peer/run.sh`: their `loopfree.py` and `utils/se_parallel_utils.py` from a "
                + "Loopfree checkout, diffusers from its source, the machine's PyTorch wheel, float32, batch 1, their DDIM with K = 4) "
                + "and the engine on the same random-weight SD1.5 folder, alternating, each run its own process with one warm-up "
                + "image; seconds per image, median of the rounds. The policy's batch is the one the worker's batch policy "
                + "settles on between 1 and 2 from these figures.\n\n"
                + Report.table(List.of("size", "authors s / image", "engine batch 1", "engine batch 2", "policy's batch",
                "engine / authors, batch 1", "engine / authors, policy's batch", "rounds"), rows);
        return new Section("8. Peer: the authors' own code on the same folder", md, goals);
    }

    private double engine(int side, int batch) {
        try (ChildJvm probe = new ChildJvm("6g", RealSizeProbe.class, "random-sd15", Integer.toString(side), "tiue", "1",
                options.quick() ? "1" : "2", Integer.toString(batch))) {
            return Double.parseDouble(probe.await("RESULT").split("\\s+")[1]);
        }
    }

    private double authors(Path model, int side) {
        List<String> command = List.of("bash", Path.of("tools", "peer", "run.sh").toString(),
                options.peerLoopfree().toString(), options.peerDiffusers().toString(), model.toString(),
                Integer.toString(side), "1", options.quick() ? "1" : "2");
        try {
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String result = null;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.startsWith("RESULT ")) {
                        result = line;
                    } else {
                        System.out.println("  [peer] " + line);
                    }
                }
            }
            int exit = process.waitFor();
            if (result == null) {
                throw new IllegalStateException("tools/peer/run.sh ended (exit " + exit + ") without a RESULT line");
            }
            return Double.parseDouble(result.split("\\s+")[1]);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run tools/peer/run.sh", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
