package dev.oneway.bench;

import ai.djl.engine.Engine;
import dev.oneway.engine.TorchRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** What the numbers were measured on, read from /proc and the running JVM. */
public final class Machine {
    private Machine() { }

    public static String cpuModel() {
        return firstValue(Path.of("/proc/cpuinfo"), "model name").orElse(System.getProperty("os.arch"));
    }

    public static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2] + " (1, 5, 15 min)";
        } catch (IOException e) {
            return "unknown";
        }
    }

    public static long memoryGib() {
        return firstValue(Path.of("/proc/meminfo"), "MemTotal")
                .map(v -> Math.round(Long.parseLong(v.replaceAll("\\D", "")) / 1024.0 / 1024.0))
                .orElse(-1L);
    }

    /** Soft limit on open files of this process (the WebSocket fan-out needs two per connection). */
    public static String openFilesLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    return line.substring("Max open files".length()).trim().split("\\s+")[0];
                }
            }
        } catch (IOException ignored) {
            // not on Linux
        }
        return "unknown";
    }

    /** Peak resident memory of this process (VmHWM), in MiB. */
    public static long peakRssMb() {
        return statusKb("VmHWM:") / 1024;
    }

    public static long rssKb() {
        return statusKb("VmRSS:");
    }

    private static long statusKb(String key) {
        return firstValue(Path.of("/proc/self/status"), key.replace(":", ""))
                .map(v -> Long.parseLong(v.replaceAll("\\D", ""))).orElse(-1L);
    }

    /** The Markdown table that heads the report. */
    public static String describe(String loadBefore, String loadAfter, String started, String wallTime) {
        Engine torch = TorchRuntime.engine(); // before JniUtils: it loads the native library
        List<String[]> rows = List.of(
                new String[] {"CPU", cpuModel()},
                new String[] {"Cores visible to the JVM", Integer.toString(Runtime.getRuntime().availableProcessors())},
                new String[] {"Memory", memoryGib() + " GiB"},
                new String[] {"JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")},
                new String[] {"OS", System.getProperty("os.name") + " " + System.getProperty("os.version")},
                new String[] {"DJL / PyTorch", Engine.getDjlVersion() + " / " + torch.getVersion() + " (" + torch.getEngineName()
                        + ", " + (torch.getGpuCount() > 0 ? torch.getGpuCount() + " GPU" : "CPU only") + ")"},
                new String[] {"PyTorch intra-op threads", Integer.toString(ai.djl.pytorch.jni.JniUtils.getNumThreads())},
                new String[] {"GLIBC_TUNABLES", String.valueOf(System.getenv("GLIBC_TUNABLES"))},
                new String[] {"OMP_WAIT_POLICY", String.valueOf(System.getenv("OMP_WAIT_POLICY"))},
                new String[] {"Open files limit", openFilesLimit()},
                new String[] {"Started", started},
                new String[] {"Wall time of the run", wallTime},
                new String[] {"Load average before", loadBefore},
                new String[] {"Load average after", loadAfter});
        StringBuilder md = new StringBuilder("| | |\n|---|---|\n");
        for (String[] row : rows) {
            md.append("| ").append(row[0]).append(" | ").append(row[1]).append(" |\n");
        }
        return md.toString();
    }

    public static String now() {
        return ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"));
    }

    private static java.util.Optional<String> firstValue(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
                    return java.util.Optional.of(line.substring(colon + 1).trim());
                }
            }
        } catch (IOException ignored) {
            // not on Linux
        }
        return java.util.Optional.empty();
    }
}
