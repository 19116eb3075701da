package dev.oneway.bench;

import dev.oneway.common.Setting;
import dev.oneway.standalone.OnewaySystem;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The server side of the gateway and fan-out parts, in its own JVM: embedded Kafka and S3, a gateway
 * (no workers), and beside it on the same Vert.x a bare HTTP endpoint that reads the body and answers 202, one
 * instance per core as the gateway's HTTP server.
 * Prints "READY gateway=PORT bare=PORT kafka=BOOTSTRAP"; then on "mem" prints "MEM heapBytes rssKb"
 * after a GC, and stops when stdin closes.
 */
public final class ServerProcess {

    public static void main(String[] args) throws Exception {
        Path data = Files.createTempDirectory("oneway-bench-");
        OnewaySystem system = OnewaySystem.builder()
                .dataDir(data)
                .set(Setting.HTTP_PORT, 0)
                .set(Setting.JOBS_PER_MINUTE_PER_TENANT, 1_000_000_000)
                .set(Setting.MAX_UNFINISHED_JOBS_PER_TENANT, 1_000_000_000)
                .withoutWorkers()
                .start();
        // The workers announce their models' limits once, which the gateway validates jobs against, and stop: no job
        // submitted by the benchmark runs.
        system.startWorkers();
        system.stopWorkers();
        int barePort = BareEndpoint.deploy(system.vertx()).toCompletionStage().toCompletableFuture().get();
        System.out.println("READY gateway=" + system.httpPort() + " bare=" + barePort + " kafka="
                + system.kafka().bootstrapServers());
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = stdin.readLine(); line != null; line = stdin.readLine()) {
            if (line.equals("mem")) {
                for (int i = 0; i < 3; i++) {
                    System.gc();
                    Thread.sleep(200);
                }
                System.out.println("MEM " + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() + " "
                        + Machine.rssKb());
            }
        }
        system.close();
        System.exit(0);
    }
}
