package dev.oneway.bench;

import dev.oneway.engine.TorchRuntime;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A second JVM on this JVM's class path, for parts that must not share a process with the load they are
 * measured under (a gateway's memory per connection) or that need their own peak-memory figure. It talks
 * over lines on stdin/stdout; its stderr goes to ours. Its stdout is read all the time by a thread of ours,
 * so a child that logs a great deal never blocks on a full pipe (a gateway's event loop did, mid-benchmark);
 * its JSON log lines are dropped unless they are warnings or errors.
 */
public final class ChildJvm implements AutoCloseable {

    private static final String END = "\u0000end";

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final PrintWriter in;

    public ChildJvm(String heap, Class<?> main, String... args) {
        this(heap, Map.of(), List.of(), main, args);
    }

    /**
     * @param env environment added to this JVM's (which the child inherits); an empty value removes the variable
     * @param jvmFlags extra JVM flags, e.g. -Dai.djl.pytorch.num_threads=1
     */
    public ChildJvm(String heap, Map<String, String> env, List<String> jvmFlags, Class<?> main, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap, "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        TorchRuntime.CPU_ENVIRONMENT.forEach(builder.environment()::putIfAbsent);
        env.forEach((name, value) -> {
            if (value.isEmpty()) {
                builder.environment().remove(name);
            } else {
                builder.environment().put(name, value);
            }
        });
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + main.getSimpleName(), e);
        }
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread reader = new Thread(() -> drain(out), main.getSimpleName() + "-stdout");
        reader.setDaemon(true);
        reader.start();
        in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    }

    private void drain(BufferedReader out) {
        try {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (!line.startsWith("{")) {
                    lines.add(line);
                } else if (line.contains("\"level\":\"WARN\"") || line.contains("\"level\":\"ERROR\"")) {
                    System.out.println("  [child] " + line);
                }
            }
        } catch (IOException e) {
            System.out.println("  [child] output unreadable: " + e);
        } finally {
            lines.add(END);
        }
    }

    /** The rest of the first output line that starts with prefix (other lines are echoed). */
    public String await(String prefix) {
        try {
            for (String line = lines.take(); !line.equals(END); line = lines.take()) {
                if (line.startsWith(prefix)) {
                    return line.substring(prefix.length()).trim();
                }
                System.out.println("  [child] " + line);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + prefix.trim(), e);
        }
        lines.add(END);
        throw new IllegalStateException("child JVM ended without printing " + prefix.trim() + " (exit "
                + waitForExit() + ")");
    }

    public void send(String line) {
        in.println(line);
    }

    public long pid() {
        return process.pid();
    }

    private int waitForExit() {
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** SIGTERM, then waits up to a minute for the process to end (Oneway's processes stop cleanly on it). */
    public void terminate() {
        process.destroy();
        try {
            process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        in.close();
        try {
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroy();
                process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
