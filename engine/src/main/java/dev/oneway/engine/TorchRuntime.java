package dev.oneway.engine;

import ai.djl.engine.Engine;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
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
 */
public final class TorchRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(TorchRuntime.class);
    static final String LOG_LEVEL_VARIABLE = "TORCH_CPP_LOG_LEVEL";
    /** c10's levels: 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL. */
    static final int ERROR = 2;
    private static final String LEVEL_FLAG = "FLAGS_caffe2_log_level";
    private static final String INIT_LOGGING = "_ZN3c1011initLoggingEv"; // c10::initLogging()

    private static NativeLibrary c10;

    private TorchRuntime() { }

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
