package dev.oneway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * CPU time of this process's threads, native ones included (PyTorch's OpenMP threads are invisible to the JVM's
 * thread bean), read from {@code /proc/self/task} on Linux. Two snapshots give the cores each kind of thread used
 * between them. Read in-process and twice per window: a sampler in another process (a shell loop forking per
 * thread) takes the same cores it measures, which once made the engine look starved.
 */
final class ThreadCpu {

    /** Linux's clock ticks per second for the times in /proc (USER_HZ, 100 on every mainstream architecture). */
    private static final double TICKS_PER_SECOND = 100;

    /** Per thread id: its name and CPU ticks (user + system) so far. */
    record Snapshot(long nanos, Map<String, Map.Entry<String, Long>> threads) { }

    /** Cores used between two snapshots, per kind of thread (the name without its numbers). */
    record Use(double seconds, Map<String, Double> coresByKind) {
        double total() {
            return coresByKind.values().stream().mapToDouble(Double::doubleValue).sum();
        }

        double of(String kind) {
            return coresByKind.getOrDefault(kind, 0.0);
        }

        /** Cores of every kind but {@code kind}. */
        double otherThan(String kind) {
            return total() - of(kind);
        }

        /** Cores of every kind whose name contains {@code part}. */
        double ofContaining(String part) {
            return coresByKind.entrySet().stream().filter(e -> e.getKey().contains(part)).mapToDouble(Map.Entry::getValue).sum();
        }

        /** "kind 0.05, kind 0.03, ..." for the busiest kinds other than {@code except}. */
        String busiest(String except, int n) {
            return coresByKind.entrySet().stream().filter(e -> !e.getKey().equals(except))
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(n)
                    .map(e -> e.getKey() + " " + Report.f("%.2f", e.getValue())).collect(Collectors.joining(", "));
        }
    }

    private ThreadCpu() { }

    /** Empty where /proc/self/task is not there (not Linux). */
    static Snapshot snapshot() {
        Map<String, Map.Entry<String, Long>> threads = new HashMap<>();
        Path tasks = Path.of("/proc/self/task");
        if (Files.isDirectory(tasks)) {
            try (Stream<Path> list = Files.list(tasks)) {
                list.forEach(task -> {
                    try {
                        String name = Files.readString(task.resolve("comm")).trim();
                        String stat = Files.readString(task.resolve("stat"));
                        // after the name's closing parenthesis: state is field 0, utime field 11, stime field 12
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        threads.put(task.getFileName().toString(), Map.entry(name, Long.parseLong(f[11]) + Long.parseLong(f[12])));
                    } catch (IOException | RuntimeException e) {
                        // the thread ended meanwhile
                    }
                });
            } catch (IOException e) {
                // no per-thread figures then
            }
        }
        return new Snapshot(System.nanoTime(), threads);
    }

    static Use between(Snapshot a, Snapshot b) {
        double seconds = (b.nanos() - a.nanos()) / 1e9;
        Map<String, Double> cores = new HashMap<>();
        b.threads().forEach((tid, now) -> {
            Map.Entry<String, Long> before = a.threads().get(tid);
            long ticks = now.getValue() - (before == null || !before.getKey().equals(now.getKey()) ? 0 : before.getValue());
            cores.merge(kind(now.getKey()), ticks / TICKS_PER_SECOND / seconds, Double::sum);
        });
        return new Use(seconds, cores);
    }

    /**
     * A thread's name without the numbers that tell threads of one kind apart: "oneway-engine-0", "GC Thread#1" and
     * "S3Proxy-Jetty-7" lose their last number, "5867:vm/w1-watc" (cut to 15 characters by Linux) its process id.
     */
    static String kind(String threadName) {
        String kind = threadName.replaceFirst("^[0-9]+:", "").replaceFirst("[-#_ ]*[0-9]+$", "");
        return kind.isEmpty() ? threadName : kind;
    }
}
