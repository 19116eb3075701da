package dev.oneway.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * libtorch's own log (c10, written to standard error past every Java logger) is at ERROR unless
 * TORCH_CPP_LOG_LEVEL asks otherwise, whichever CPU runs it. Each case runs in a JVM of its own, because the
 * variable is read from the process environment and the level is set once per process.
 */
class TorchRuntimeTest {

    @Test
    void libtorchLogsOnlyErrorsWhenNothingIsAsked() throws Exception {
        assertEquals("2", levelInChildJvm(null));
    }

    @Test
    void torchCppLogLevelIsHonouredAsPyTorchDocumentsIt() throws Exception {
        assertEquals("0", levelInChildJvm("info"));
        assertEquals("1", levelInChildJvm("WARNING"));
        assertEquals("3", levelInChildJvm("3"));
    }

    /** Starts a JVM that loads the engine the way TiueEngine does and prints c10's level. */
    private static String levelInChildJvm(String torchCppLogLevel) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Dai.djl.offline=true",
                "-cp", System.getProperty("java.class.path"), PrintLevel.class.getName()));
        builder.environment().remove(TorchRuntime.LOG_LEVEL_VARIABLE);
        if (torchCppLogLevel != null) {
            builder.environment().put(TorchRuntime.LOG_LEVEL_VARIABLE, torchCppLogLevel);
        }
        builder.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the child JVM did not exit");
        }
        assertEquals(0, process.exitValue(), "child JVM output: " + out);
        return out;
    }

    /** The child JVM's main. */
    static final class PrintLevel {
        public static void main(String[] args) {
            System.out.println(TorchRuntime.logLevel().map(String::valueOf).orElse("libc10 not found"));
        }
    }
}
