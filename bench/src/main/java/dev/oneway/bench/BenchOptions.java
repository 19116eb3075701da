package dev.oneway.bench;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Command-line flags of the suite.
 *
 * @param quick    few repetitions and small sizes, for developing the suite (numbers are not for the report)
 * @param parts    which parts run: engine, realsize, gateway, overhead, fanout
 * @param realSide side of the SD1.5 image used by the engine parts (TiUE vs looped, efficiency)
 * @param sizes    sides of the real-size part (256, 512)
 * @param connections WebSocket connections of the fan-out part, one measurement each
 * @param docs     where the report and the charts go
 * @param realBatching also measure batching (1 vs 4) on SD1.5 at realSide (slow)
 * @param peerLoopfree a Loopfree checkout, for the peer part (null: the part does not run)
 * @param peerDiffusers a diffusers checkout whose src/ the peer part runs Loopfree with
 * @param peerRoundsAsked rounds of the peer part asked for with --peer-rounds (0: the default)
 * @param peerLibtorch a libtorch folder holding DJL's JNI built against it (tools/libtorch/build.sh), for a peer arm of
 *                     the engine on that libtorch (null: no such arm)
 */
public record BenchOptions(boolean quick, Set<String> parts, int realSide, List<Integer> sizes, List<Integer> connections,
                           Path docs, boolean realBatching, Path peerLoopfree, Path peerDiffusers,
                           int peerRoundsAsked, Path peerLibtorch) {

    public static final List<String> ALL_PARTS = List.of("engine", "gateway", "wrk", "overhead", "saturation", "fanout",
            "realsize", "peer");

    public static final String USAGE = """
            java -jar bench/target/oneway-bench.jar [--quick] [--only engine,gateway,wrk,overhead,saturation,fanout,realsize,peer]
                 [--skip realsize,...] [--skip-512] [--real-side 256] [--real-batching] [--connections 5000,20000] [--docs docs]
                 [--peer-loopfree LOOPFREE_CHECKOUT --peer-diffusers DIFFUSERS_CHECKOUT [--peer-rounds 2] [--peer-libtorch DIR]]
            Runs the benchmarks and writes <docs>/benchmarks.md and <docs>/bench-*.png. The peer part (the authors'
            Loopfree inference against the engine on the same folder, tools/peer/) runs when both checkouts are given;
            --peer-libtorch adds the engine on that libtorch (a folder tools/libtorch/build.sh has put DJL's JNI in).""";

    public static BenchOptions parse(String... args) {
        boolean quick = false;
        boolean skip512 = false;
        boolean realBatching = false;
        Set<String> parts = new LinkedHashSet<>(ALL_PARTS);
        Integer realSide = null;
        List<Integer> connections = null;
        Path docs = Path.of("docs");
        Path peerLoopfree = null;
        Path peerDiffusers = null;
        int peerRounds = 0;
        Path peerLibtorch = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--skip-512" -> skip512 = true;
                case "--real-batching" -> realBatching = true;
                case "--only" -> parts = partsOf(value(args, ++i));
                case "--skip" -> parts.removeAll(partsOf(value(args, ++i)));
                case "--real-side" -> realSide = Integer.parseInt(value(args, ++i));
                case "--connections" -> connections = java.util.Arrays.stream(value(args, ++i).split(","))
                        .map(String::trim).map(Integer::parseInt).toList();
                case "--docs" -> docs = Path.of(value(args, ++i));
                case "--peer-loopfree" -> peerLoopfree = Path.of(value(args, ++i));
                case "--peer-rounds" -> peerRounds = Integer.parseInt(value(args, ++i));
                case "--peer-diffusers" -> peerDiffusers = Path.of(value(args, ++i));
                case "--peer-libtorch" -> peerLibtorch = Path.of(value(args, ++i));
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'\n" + USAGE);
            }
        }
        List<Integer> sizes = quick || skip512 ? List.of(256) : List.of(256, 512);
        return new BenchOptions(quick, parts, realSide != null ? realSide : quick ? 128 : 256, sizes,
                connections != null ? connections : quick ? List.of(500) : List.of(5000, 20_000), docs, realBatching,
                peerLoopfree, peerDiffusers, peerRounds, peerLibtorch);
    }

    public boolean runs(String part) {
        return parts.contains(part) && (!part.equals("peer") || (peerLoopfree != null && peerDiffusers != null));
    }

    /** Rounds of the peer part (each: the authors' code, the engine at batch 1, at batch 2): 2, 1 when quick. */
    public int peerRounds() {
        return peerRoundsAsked > 0 ? peerRoundsAsked : quick ? 1 : 2;
    }

    /** Repetitions of a measurement: few when quick. */
    public int repeats(int full) {
        return quick ? Math.max(1, full / 3) : full;
    }

    private static Set<String> partsOf(String list) {
        Set<String> out = new LinkedHashSet<>();
        for (String p : list.split(",")) {
            String part = p.trim();
            if (!ALL_PARTS.contains(part)) {
                throw new IllegalArgumentException("unknown part '" + part + "'; parts: " + ALL_PARTS);
            }
            out.add(part);
        }
        return out;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value\n" + USAGE);
        }
        return args[i];
    }
}
