package dev.oneway.standalone.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One JVM of the deployment under test, started from this test's classpath with a main class, arguments and
 * environment, the way an operator starts it. Its output goes straight to a file (the OS writes it, so nothing has
 * to drain a pipe). Every process started here is killed by {@link #killAll()}, which a shutdown hook also runs, so
 * a failed or interrupted test leaves nothing behind.
 */
final class ChildProcess {

    private static final Set<ChildProcess> STARTED = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcess::killAll, "faults-kill-children"));
    }

    private final String name;
    private final Process process;
    private final Path log;
    private final long startedAtMs;

    private ChildProcess(String name, Process process, Path log, long startedAtMs) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.startedAtMs = startedAtMs;
    }

    /** Starts {@code mainClass} in a new JVM; ONEWAY_* variables of this JVM are not inherited, only {@code env}'s. */
    static ChildProcess java(String name, Path logDir, List<String> jvmOptions, String mainClass, List<String> args,
                             Map<String, String> env) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        try {
            Files.createDirectories(logDir);
            Path log = logDir.resolve(name + "-" + System.currentTimeMillis() + ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().keySet().removeIf(k -> k.startsWith("ONEWAY_"));
            builder.environment().putAll(env);
            long now = System.currentTimeMillis();
            ChildProcess child = new ChildProcess(name, builder.start(), log, now);
            STARTED.add(child);
            return child;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name, e);
        }
    }

    String name() {
        return name;
    }

    Path log() {
        return log;
    }

    long startedAtMs() {
        return startedAtMs;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed. Returns once the process is gone. */
    void kill() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
        STARTED.remove(this);
    }

    /** SIGTERM: the process runs its shutdown hooks. */
    void terminate() {
        process.destroy();
    }

    /** The exit code, or null if it still runs after {@code wait}. */
    Integer awaitExit(Duration wait) {
        try {
            if (process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                STARTED.remove(this);
                return process.exitValue();
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    String describe() {
        return name + " (pid " + process.pid() + ", log " + log.toAbsolutePath() + ")";
    }

    /** Kills every process this JVM started and still runs. */
    static void killAll() {
        for (ChildProcess child : List.copyOf(STARTED)) {
            child.process.destroyForcibly();
        }
        for (ChildProcess child : List.copyOf(STARTED)) {
            try {
                child.process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            STARTED.remove(child);
        }
    }

    static int running() {
        return (int) STARTED.stream().filter(ChildProcess::isAlive).count();
    }
}
