package dev.oneway.engine;

import ai.djl.engine.Engine;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DJL's PyTorch engine, with libtorch's own log quietened: the way every Oneway class gets the engine.
 *
 * <p>libtorch logs through c10 straight to the process's standard error, past any Java logger. On CPUs that
 * NNPACK does not support it writes {@code [W... NNPACK.cpp:57] Could not initialize NNPACK! Reason: Unsupported
 * hardware.} for every small convolution (tens of thousands of lines per run), which breaks "every log line is
 * JSON". c10 reads its level from {@code TORCH_CPP_LOG_LEVEL} only in {@code c10::initLogging()}, which
 * PyTorch's Python module calls and DJL never does, so the variable alone changes nothing here. This class does
 * what Python does: it calls {@code c10::initLogging()} when {@code TORCH_CPP_LOG_LEVEL} is set (PyTorch's own
 * parsing: INFO, WARNING, ERROR, FATAL or 0 to 3), and otherwise sets c10's level ({@code FLAGS_caffe2_log_level})
 * to ERROR, so libtorch's warnings stay out of Oneway's output unless someone asks for them.
 *
 * <p>It also names the process environment CPU inference wants ({@link #CPU_ENVIRONMENT}), which libtorch and glibc
 * read when the process starts, so launchers (the {@code oneway} script, the worker image, the benchmarks) set it
 * and a JVM started without it says so once.
 */
public final class TorchRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(TorchRuntime.class);
    static final String LOG_LEVEL_VARIABLE = "TORCH_CPP_LOG_LEVEL";
    /** c10's levels: 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL. */
    static final int ERROR = 2;
    private static final String LEVEL_FLAG = "FLAGS_caffe2_log_level";
    private static final String INIT_LOGGING = "_ZN3c1011initLoggingEv"; // c10::initLogging()

    /**
     * glibc's allocator for libtorch's tensors. By default each tensor over 128 KiB, and every oneDNN weight reorder,
     * is a fresh mmap whose pages fault in one by one (about 10 us each in a VM) and go back to the kernel when it is
     * freed; and every JVM thread mallocs in an arena whose memory is returned on free. One arena, no mmap at all
     * (every block from the heap, whatever its size: glibc's mmap threshold stops at 32 MiB, below the VAE's and
     * the 512x512 UNet's activations), a heap that is never trimmed, and huge pages for it let a pass reuse the
     * memory of the one before. SD1.5 on a 2-core CPU, JVMs in alternation: at 256x256 7.9-9.7 s per image with
     * huge pages alone, 7.1-7.6 s with the heap up to 32 MiB; at 512x512 28.9-29.2 s with the heap up to 32 MiB,
     * 21.4-24.9 s with no mmap, the same peak RSS (docs/benchmarks.md, issue 15). Memory a worker once used stays
     * in its heap for the next batch.
     */
    public static final String MALLOC_TUNABLES = "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1"
            + ":glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296";

    /**
     * The environment CPU inference runs in: PyTorch's OpenMP threads sleep instead of spinning while they wait
     * (40-60x slower ops when the cores are shared otherwise), and {@link #MALLOC_TUNABLES}.
     */
    public static final Map<String, String> CPU_ENVIRONMENT = Map.of("OMP_WAIT_POLICY", "PASSIVE", "GLIBC_TUNABLES", MALLOC_TUNABLES);

    private static NativeLibrary c10;
    private static boolean environmentChecked;

    private TorchRuntime() { }

    /**
     * Hands the free memory of glibc's heap back to the kernel ({@code malloc_trim(0)}: every whole free page, not
     * only the heap's top). With {@link #MALLOC_TUNABLES} the heap is never trimmed on its own, so a process that
     * closes a model (a benchmark, a worker replacing one) keeps the memory of that model's packed weights and
     * activations until this is called. A no-op where the C library has no malloc_trim.
     */
    public static void releaseFreeMemory() {
        try {
            NativeLibrary.getInstance("c").getFunction("malloc_trim").invokeInt(new Object[] {0});
        } catch (UnsatisfiedLinkError e) {
            LOG.debug("no malloc_trim in this C library: {}", e.getMessage());
        }
    }

    /** {@code Engine.getEngine("PyTorch")}, loading libtorch on first use and setting its log level once. */
    public static Engine engine() {
        Engine engine = Engine.getEngine("PyTorch"); // loads libtorch (and libc10) into the process
        setLogLevelOnce();
        return engine;
    }

    /** c10's current log level (0 INFO to 3 FATAL), or empty when libc10 is not found in this process. */
    public static synchronized Optional<Integer> logLevel() {
        engine();
        return c10 == null ? Optional.empty() : Optional.of(c10.getGlobalVariableAddress(LEVEL_FLAG).getInt(0));
    }

    /**
     * What {@code env} lacks of {@link #CPU_ENVIRONMENT}: the variables to set, with their full values. A passive
     * wait policy in any case passes; tunables already set keep their values and the missing ones are appended.
     */
    public static Map<String, String> missingCpuEnvironment(Map<String, String> env) {
        Map<String, String> missing = new LinkedHashMap<>();
        if (!"PASSIVE".equalsIgnoreCase(env.getOrDefault("OMP_WAIT_POLICY", ""))) {
            missing.put("OMP_WAIT_POLICY", "PASSIVE");
        }
        String tunables = env.getOrDefault("GLIBC_TUNABLES", "");
        StringBuilder merged = new StringBuilder(tunables);
        for (String tunable : MALLOC_TUNABLES.split(":")) {
            String name = tunable.substring(0, tunable.indexOf('=') + 1);
            if (!(":" + tunables).contains(":" + name)) {
                merged.append(merged.length() == 0 ? "" : ":").append(tunable);
            }
        }
        if (!merged.toString().equals(tunables)) {
            missing.put("GLIBC_TUNABLES", merged.toString());
        }
        return missing;
    }

    /** Logs once, for a JVM about to run inference on the CPU, what it lacks of {@link #CPU_ENVIRONMENT}. */
    public static synchronized void checkCpuEnvironment() {
        if (environmentChecked) {
            return;
        }
        environmentChecked = true;
        Map<String, String> missing = missingCpuEnvironment(System.getenv());
        if (!missing.isEmpty()) {
            LOG.warn("CPU inference runs slower in this environment: set {} before the JVM starts (libtorch and glibc "
                    + "read them at start; the oneway script and the worker image do)", missing);
        }
    }

    private static synchronized void setLogLevelOnce() {
        if (c10 != null) {
            return;
        }
        Optional<Path> path = loadedLibrary("libc10.so");
        if (path.isEmpty()) {
            LOG.debug("libc10.so is not mapped into this process; libtorch's log level stays as it is");
            return;
        }
        NativeLibrary library = NativeLibrary.getInstance(path.get().toString()); // the already loaded copy
        String requested = System.getenv(LOG_LEVEL_VARIABLE);
        try {
            if (requested == null || requested.isBlank()) {
                library.getGlobalVariableAddress(LEVEL_FLAG).setInt(0, ERROR);
            } else {
                library.getFunction(INIT_LOGGING, Function.C_CONVENTION).invokeVoid(new Object[0]);
            }
            c10 = library;
        } catch (UnsatisfiedLinkError e) {
            LOG.warn("libtorch's log level cannot be set ({} in {}); its warnings may appear on standard error",
                    e.getMessage(), path.get());
        }
    }

    /** Where the dynamic linker loaded a library from, read from /proc/self/maps (Linux). */
    private static Optional<Path> loadedLibrary(String fileName) {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return Optional.empty();
        }
        try (var lines = Files.lines(maps)) {
            return lines.filter(line -> line.indexOf('/') >= 0)
                    .map(line -> line.substring(line.indexOf('/'))) // the path column, spaces and all
                    .filter(file -> file.toLowerCase(Locale.ROOT).endsWith("/" + fileName))
                    .findFirst()
                    .map(Path::of);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
