package dev.oneway.standalone;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gateway or worker in a JVM of its own, started from the test classpath the way a deployment starts it:
 * a main class and ONEWAY_* variables. Its output goes to a log file under target/child-jvms.
 */
final class ChildJvm implements AutoCloseable {

    private final String name;
    private final Process process;
    private final Path log;

    private ChildJvm(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Every setting of {@code config} as the child's environment, with some replaced. */
    static Map<String, String> environment(OnewayConfig config, Map<Setting, Object> overrides) {
        Map<String, String> env = new HashMap<>();
        for (Setting s : Setting.values()) {
            env.put(s.envName(), overrides.containsKey(s) ? String.valueOf(overrides.get(s)) : config.get(s));
        }
        return env;
    }

    static ChildJvm start(String name, Class<?> mainClass, Map<String, String> env) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "child-jvms"));
            Path log = dir.resolve(name + "-" + System.nanoTime() + ".log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder builder = new ProcessBuilder(List.of(java, "-Xmx768m", "-Dai.djl.offline=true",
                    "-cp", System.getProperty("java.class.path"), mainClass.getName()))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            builder.environment().keySet().removeIf(k -> k.startsWith("ONEWAY_"));
            builder.environment().putAll(env);
            return new ChildJvm(name, builder.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name, e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM on Linux: what an orchestrator sends before it stops a container. */
    void terminate() {
        process.destroy();
    }

    /** SIGKILL: no shutdown hook, no goodbye. */
    void kill() {
        process.destroyForcibly();
    }

    /** The exit code, or null when the process is still running after {@code ms}. */
    Integer awaitExit(long ms) throws InterruptedException {
        return process.waitFor(ms, TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    String describe() {
        return name + " (pid " + pid() + ", log " + log.toAbsolutePath() + ")";
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
