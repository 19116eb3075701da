package dev.oneway.standalone;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.worker.ImageEngine;

/**
 * A worker JVM (ONEWAY_* settings, external Kafka and S3, no gateway) whose process dies at once, without a goodbye,
 * whenever a batch holds a prompt starting with {@link #KILLER}: what the kernel's OOM killer, or a native crash in
 * the engine, does to a real worker on a job too large for it.
 */
public final class CrashingWorkerMain {
    private CrashingWorkerMain() { }

    static final String KILLER = "[kills its worker]";

    public static void main(String[] args) throws InterruptedException {
        OnewayConfig config = OnewayConfig.fromEnv();
        OnewaySystem.builder()
                .environment(System.getenv())
                .externalKafka(config.get(Setting.KAFKA_BOOTSTRAP))
                .externalS3(config.get(Setting.S3_ENDPOINT))
                .withoutGateway()
                .wrapEngine(CrashingWorkerMain::dyingOnKillers)
                .start();
        Thread.currentThread().join();
    }

    private static ImageEngine dyingOnKillers(ImageEngine real) {
        return Engines.beforeEachBatch(real, batch -> {
            if (batch.stream().anyMatch(r -> r.prompt().startsWith(KILLER))) {
                System.out.println("a batch of " + batch.size() + " holds a killer job: the process dies");
                Runtime.getRuntime().halt(137);
            }
        });
    }
}
