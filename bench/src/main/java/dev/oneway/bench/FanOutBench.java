package dev.oneway.bench;

import static dev.oneway.bench.Report.f;

import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Goal 6: N WebSocket clients of one tenant on one gateway (its own JVM); job events are written straight to
 * the events topic from here, and each client notes when the frame arrives. Latency = frame arrival - the
 * moment the event was handed to the Kafka producer (so it includes the produce itself). Memory per
 * connection = the gateway JVM's growth (heap after GC, and RSS) from no clients to N clients, divided by N.
 */
public final class FanOutBench {

    private final BenchOptions options;

    public FanOutBench(BenchOptions options) {
        this.options = options;
    }

    /** Fan-out to {@code requested} clients, or as many as the open-files limit lets one gateway JVM hold. */
    public Section run(int requested) {
        int connections = withinOpenFilesLimit(requested);
        int events = options.quick() ? 10 : 30;
        long gapMs = 500;
        Vertx vertx = Vertx.vertx();
        Map<String, Long> sentAt = new ConcurrentHashMap<>();
        List<Double> latencies = java.util.Collections.synchronizedList(new ArrayList<>(connections * events));
        AtomicLong frames = new AtomicLong();
        // per event: the latency of its first and of its last frame (the fan-out's spread)
        Map<String, double[]> firstAndLast = new ConcurrentHashMap<>();
        double[] cpuMsPerEvent = new double[2]; // gateway JVM (with its Kafka), this JVM (the clients)
        long[] memBefore;
        long[] memAfter;
        double[] ms;
        try (ChildJvm server = new ChildJvm("2g", ServerProcess.class)) {
            Map<String, String> ready = GatewayBench.fields(server.await("READY"));
            int port = Integer.parseInt(ready.get("gateway"));
            memBefore = mem(server);
            EngineBench.log("fan-out: connecting %d WebSocket clients (open files limit %s)", connections, Machine.openFilesLimit());
            WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                    .setMaxConnections(connections + 10).setConnectTimeout(60_000));
            CountDownLatch connected = new CountDownLatch(connections);
            AtomicLong failures = new AtomicLong();
            WebSocketConnectOptions connect = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
                    .setURI("/v1/events").addHeader("Authorization", "Bearer demo-key");
            List<WebSocket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
            // at most 200 handshakes in flight
            java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(200);
            for (int i = 0; i < connections; i++) {
                inFlight.acquire();
                vertx.runOnContext(v -> client.connect(connect).onComplete(ar -> {
                    inFlight.release();
                    if (ar.failed()) {
                        failures.incrementAndGet();
                        connected.countDown();
                        return;
                    }
                    WebSocket socket = ar.result();
                    sockets.add(socket);
                    socket.textMessageHandler(text -> {
                        long now = System.nanoTime();
                        String id = idOf(text);
                        Long sent = sentAt.get(id);
                        if (sent != null) {
                            double latency = (now - sent) / 1e6;
                            latencies.add(latency);
                            firstAndLast.merge(id, new double[] {latency, latency},
                                    (a, b) -> new double[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
                            frames.incrementAndGet();
                        }
                    });
                    connected.countDown();
                }));
            }
            if (!connected.await(300, TimeUnit.SECONDS) || failures.get() > 0) {
                throw new IllegalStateException("only " + sockets.size() + " of " + connections + " WebSockets connected ("
                        + failures.get() + " failed)");
            }
            Thread.sleep(2000);
            memAfter = mem(server);
            EngineBench.log("fan-out: %d connected; sending %d events", sockets.size(), events);
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, ready.get("kafka"));
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                // one unmeasured event first: connections, JIT and the consumer's first fetch
                sendEvent(producer, null);
                Thread.sleep(2000);
                long gatewayCpu = WrkBench.cpuNanos(server.pid());
                long ownCpu = WrkBench.cpuNanos(ProcessHandle.current().pid());
                for (int e = 0; e < events; e++) {
                    sendEvent(producer, sentAt);
                    Thread.sleep(gapMs);
                }
                long expected = (long) connections * events;
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (frames.get() < expected && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                cpuMsPerEvent[0] = (WrkBench.cpuNanos(server.pid()) - gatewayCpu) / 1e6 / events;
                cpuMsPerEvent[1] = (WrkBench.cpuNanos(ProcessHandle.current().pid()) - ownCpu) / 1e6 / events;
            }
            synchronized (latencies) {
                ms = OverheadBench.unbox(latencies);
            }
            for (WebSocket s : sockets) {
                vertx.runOnContext(v -> s.close());
            }
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            vertx.close();
        }
        long expected = (long) connections * events;
        double p50 = Stats.percentile(ms, 50);
        double p99 = Stats.percentile(ms, 99);
        double max = Stats.percentile(ms, 100);
        double heapPerConnection = (memAfter[0] - memBefore[0]) / (double) connections / 1024;
        double rssPerConnection = (memAfter[1] - memBefore[1]) / (double) connections;
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("ms", List.of(p50, Stats.percentile(ms, 90), p99, max));
        Path chart = Charts.bars(options.docs().resolve("bench-fanout-" + requested + ".png"),
                f("Event on Kafka to frame at each of %,d WebSocket clients", connections), "ms",
                List.of("p50", "p90", "p99", "max"), series);
        String md = f("One gateway in its own JVM (embedded Kafka beside it, no workers); %,d WebSocket clients of one tenant, "
                + "all in the benchmark JVM, each hearing every job of the tenant. %d job.queued events are produced to the "
                + "events topic from the benchmark JVM, %d ms apart (after one unmeasured event); each client notes each "
                + "frame's arrival. Latency = arrival - the moment the event was handed to the producer (acks=all), so it "
                + "includes the produce, the gateway's consumer poll, the fan-out and the clients' own event loops on the "
                + "same %d cores.%s%n%n", connections, events, gapMs, Runtime.getRuntime().availableProcessors(),
                connections == requested ? "" : f(" %,d clients were asked for; the open-files limit of this machine (%s, "
                        + "which a process cannot raise) lets one gateway JVM hold %,d.", requested, Machine.openFilesLimit(),
                        connections))
                + Report.table(List.of("frames expected", "frames received", "p50 ms", "p90 ms", "p99 ms", "max ms"),
                List.of(List.of(Long.toString(expected), Long.toString(ms.length), f("%.1f", p50), f("%.1f", Stats.percentile(ms, 90)),
                        f("**%.1f**", p99), f("%.1f", max))))
                + f("%nPer event (medians over the %d events): the first client had its frame after **%.1f ms** (the produce, "
                + "the gateway's fetch and one write), the last after **%.1f ms**; the difference is the fan-out of %,d frames. "
                + "CPU time per event: gateway JVM (with its Kafka broker) %.1f ms, %.1f us per frame; benchmark JVM (the "
                + "%,d clients, and the producer) %.1f ms, %.1f us per frame.%n", events,
                Stats.median(firstAndLast.values().stream().mapToDouble(v -> v[0]).toArray()),
                Stats.median(firstAndLast.values().stream().mapToDouble(v -> v[1]).toArray()), connections,
                cpuMsPerEvent[0], 1000 * cpuMsPerEvent[0] / connections, connections, cpuMsPerEvent[1],
                1000 * cpuMsPerEvent[1] / connections)
                + f("%nGateway JVM memory with no clients and with %,d: heap after GC %.1f -> %.1f MiB, RSS %.0f -> %.0f MiB; "
                + "per connection **%.1f KiB of heap**, %.1f KiB of RSS.%n%n", connections, memBefore[0] / 1048576.0,
                memAfter[0] / 1048576.0, memBefore[1] / 1024.0, memAfter[1] / 1024.0, heapPerConnection, rssPerConnection)
                + Report.image("fan-out", chart, options.docs());
        boolean large = requested > 5000;
        double p99Goal = large ? 150 : 50;
        List<Goal> goals = new ArrayList<>();
        goals.add(new Goal("6", f("event on Kafka to frame, p99, %,d connections", connections), f("<= %.0f ms", p99Goal),
                f("%.1f ms (p50 %.1f; %d of %d frames)", p99, p50, ms.length, expected), ms.length == expected && p99 <= p99Goal));
        goals.add(large
                ? new Goal("6", f("heap per WebSocket connection, %,d connections", connections), "<= 12 KiB",
                        f("%.1f KiB heap, %.1f KiB RSS", heapPerConnection, rssPerConnection), heapPerConnection <= 12)
                : new Goal("6", f("memory per WebSocket connection, %,d connections", connections), "reported",
                        f("%.1f KiB heap, %.1f KiB RSS", heapPerConnection, rssPerConnection), null));
        return new Section(f("6. WebSocket fan-out, %,d clients", connections), md, goals, "fanout-" + requested);
    }

    private static int withinOpenFilesLimit(int requested) {
        try {
            int limit = Integer.parseInt(Machine.openFilesLimit());
            return Math.min(requested, limit - 1500); // the gateway JVM also holds Kafka's and the S3 server's files
        } catch (NumberFormatException unknown) {
            return requested;
        }
    }

    private static void sendEvent(KafkaProducer<String, String> producer, Map<String, Long> sentAt) {
        String id = UUID.randomUUID().toString();
        JobRequest job = new JobRequest(id, "demo", "fan-out probe", 1, 64, 64, 4, "tiue", Instant.now());
        String value = JobEvent.queued(job).toJson().encode();
        if (sentAt != null) {
            sentAt.put(id, System.nanoTime());
        }
        producer.send(new ProducerRecord<>("oneway.job-events", id, value));
    }

    /** The job id of a frame, without parsing the whole JSON on the clients' event loops. */
    static String idOf(String frame) {
        int at = frame.indexOf("\"id\":\"");
        return at < 0 ? "" : frame.substring(at + 6, frame.indexOf('"', at + 6));
    }

    private static long[] mem(ChildJvm server) {
        server.send("mem");
        String[] parts = server.await("MEM").split("\\s+");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    }
}
