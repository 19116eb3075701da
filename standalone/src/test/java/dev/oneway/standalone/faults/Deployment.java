package dev.oneway.standalone.faults;

import dev.oneway.common.Setting;
import dev.oneway.embedded.EmbeddedKafka;
import dev.oneway.embedded.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * Oneway as operators run it, each part its own JVM on 127.0.0.1: a Kafka broker (Apache Kafka's own
 * {@code kafka.Kafka}, KRaft, broker and controller in one node), an S3 server (S3Proxy), gateways A and B
 * ({@code GatewayMain}) and workers 1 and 2 ({@code WorkerMain}, the generated tiny model). Ports and folders are
 * chosen once, so a part killed and started again comes back where it was, with its data.
 *
 * <p>The harness talks to the parts only as a client would: HTTP, WebSocket, Kafka topics, S3 and process signals.
 */
final class Deployment implements AutoCloseable {

    /** The one model the workers serve and the users' jobs name (by default). */
    static final String MODEL = "tiny-sd15";
    static final String JOBS_TOPIC = Setting.JOBS_TOPIC.defaultValue() + "." + MODEL;
    static final String EVENTS_TOPIC = Setting.EVENTS_TOPIC.defaultValue();
    static final String BUCKET = Setting.S3_BUCKET.defaultValue();
    static final String S3_ACCESS = "faults";
    static final String S3_SECRET = "faults-secret";
    /** Tenant by API key. */
    static final Map<String, String> TENANTS = new LinkedHashMap<>(Map.of("key-alpha", "alpha", "key-beta", "beta"));
    static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    /** Settings the worker JVMs get beyond the shared ones (e.g. a session timeout). */
    private final Map<Setting, String> workerSettings;
    private final Path root;
    private final Path logs;
    private final int brokerPort = FreePorts.next();
    private final int controllerPort = FreePorts.next();
    private final int s3Port = FreePorts.next();
    private final int[] gatewayPorts = {FreePorts.next(), FreePorts.next()};
    /** Workers 1 and 2 always run; worker 3 only while a scenario scales the group out. */
    private final int[] workerPorts = {FreePorts.next(), FreePorts.next(), FreePorts.next()};
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private ChildProcess broker;
    private ChildProcess s3;
    private final ChildProcess[] gateways = new ChildProcess[2];
    private final ChildProcess[] workers = new ChildProcess[3];

    Deployment(Path root, Map<Setting, String> workerSettings) {
        this.root = root.toAbsolutePath();
        this.logs = this.root.resolve("logs");
        this.workerSettings = workerSettings;
    }

    String bootstrap() {
        return "127.0.0.1:" + brokerPort;
    }

    String s3Endpoint() {
        return "http://127.0.0.1:" + s3Port;
    }

    String gatewayUrl(int gateway) {
        return "http://127.0.0.1:" + gatewayPorts[gateway];
    }

    static String gatewayName(int gateway) {
        return gateway == 0 ? "A" : "B";
    }

    ChildProcess worker(int worker) {
        return workers[worker];
    }

    /** Starts everything and returns once every part answers ready. */
    void start() {
        Thread s3Start = new Thread(this::startS3, "faults-start-s3");
        s3Start.start();
        startBroker();
        try {
            s3Start.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Gateway A creates the topics (the broker creates none by itself); the workers wait for them meanwhile.
        startGateway(0);
        startWorker(0);
        startWorker(1);
        awaitGatewayReady(0);
        startGateway(1);
        awaitAllReady();
    }

    void startBroker() {
        Path config = root.resolve("kafka.properties");
        Path logDir = root.resolve("kafka-log");
        try {
            Files.createDirectories(logDir);
            Files.writeString(config, brokerProperties(logDir));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            ChildProcess format = ChildProcess.java("kafka-format", logs, List.of("-Xmx256m"), "kafka.tools.StorageTool",
                    List.of("format", "-t", Uuid.randomUuid().toString(), "-c", config.toString()), Map.of());
            Integer exit = format.awaitExit(Duration.ofSeconds(60));
            if (exit == null || exit != 0) {
                format.kill();
                throw new IllegalStateException("formatting the Kafka log folder failed: " + format.output());
            }
        }
        broker = ChildProcess.java("broker", logs, List.of("-Xmx512m", "-XX:+UseSerialGC"), "kafka.Kafka",
                List.of(config.toString()), Map.of());
        awaitBrokerReady();
    }

    void killBroker() {
        broker.kill();
    }

    void startS3() {
        s3 = ChildProcess.java("s3", logs, List.of("-Xmx256m", "-XX:+UseSerialGC"), S3ServerMain.class.getName(),
                List.of(root.resolve("s3-data").toString(), String.valueOf(s3Port), S3_ACCESS, S3_SECRET), Map.of());
        await("the S3 server on " + s3Endpoint(), s3, () -> status(s3Endpoint() + "/") > 0);
    }

    void killS3() {
        s3.kill();
    }

    void startGateway(int gateway) {
        Map<String, String> env = sharedEnv();
        env.put(Setting.HTTP_PORT.envName(), String.valueOf(gatewayPorts[gateway]));
        gateways[gateway] = ChildProcess.java("gateway-" + gatewayName(gateway), logs,
                List.of("-Xmx384m"), "dev.oneway.gateway.GatewayMain", List.of(), env);
    }

    void killGateway(int gateway) {
        gateways[gateway].kill();
    }

    void awaitGatewayReady(int gateway) {
        await("gateway " + gatewayName(gateway), gateways[gateway],
                () -> status(gatewayUrl(gateway) + "/health/ready") == 200);
    }

    void startWorker(int worker) {
        Map<String, String> env = sharedEnv();
        env.put(Setting.WORKER_HTTP_PORT.envName(), String.valueOf(workerPorts[worker]));
        env.put(Setting.MAX_BATCH_SIZE.envName(), "4");
        env.put(Setting.MAX_BATCH_WAIT_MS.envName(), "20");
        env.put(Setting.SHUTDOWN_GRACE_MS.envName(), "20000");
        workerSettings.forEach((s, v) -> env.put(s.envName(), v));
        // The identity a restarted worker keeps (the static group membership the issue asks for reads it; a config
        // reader that does not know it ignores it: OnewayConfig reads only the Setting names).
        env.put("ONEWAY_WORKER_ID", "worker-" + (worker + 1));
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        env.put("TORCH_CPP_LOG_LEVEL", "ERROR");
        workers[worker] = ChildProcess.java("worker-" + (worker + 1), logs,
                List.of("-Xmx768m", "-Dai.djl.offline=true"), "dev.oneway.worker.WorkerMain", List.of(), env);
    }

    void awaitWorkerReady(int worker) {
        await("worker " + (worker + 1), workers[worker],
                () -> status("http://127.0.0.1:" + workerPorts[worker] + "/health/ready") == 200);
    }

    /** Every part runs and answers ready; a part found dead is started again first. */
    void awaitAllReady() {
        if (s3 == null || !s3.isAlive()) {
            startS3();
        }
        if (broker == null || !broker.isAlive()) {
            startBroker();
        }
        for (int i = 0; i < 2; i++) {
            if (gateways[i] == null || !gateways[i].isAlive()) {
                startGateway(i);
            }
            if (workers[i] == null || !workers[i].isAlive()) {
                startWorker(i);
            }
        }
        for (int i = 0; i < 2; i++) {
            awaitGatewayReady(i);
            awaitWorkerReady(i);
        }
    }

    Path logs() {
        return logs;
    }

    @Override
    public void close() {
        ChildProcess.killAll();
    }

    private Map<String, String> sharedEnv() {
        Map<String, String> env = new HashMap<>();
        env.put(Setting.API_KEYS.envName(), String.join(",",
                TENANTS.entrySet().stream().map(e -> e.getValue() + ":" + e.getKey()).toList()));
        env.put(Setting.KAFKA_BOOTSTRAP.envName(), bootstrap());
        env.put(Setting.S3_ENDPOINT.envName(), s3Endpoint());
        env.put(Setting.S3_ACCESS_KEY.envName(), S3_ACCESS);
        env.put(Setting.S3_SECRET_KEY.envName(), S3_SECRET);
        env.put(Setting.JOBS_PARTITIONS.envName(), "6");
        // One model: the gateways take its limits (64x64 by default, sides multiples of 16 up to 128) from the
        // workers' announcements.
        env.put(Setting.MODELS.envName(), MODEL + "=tiny:sd15");
        // The clients here are many jobs of two tenants; the per-tenant limits are not what is under test.
        env.put(Setting.MAX_UNFINISHED_JOBS_PER_TENANT.envName(), "100000");
        env.put(Setting.JOBS_PER_MINUTE_PER_TENANT.envName(), "1000000");
        env.put(Setting.SHUTDOWN_GRACE_MS.envName(), "5000");
        return env;
    }

    private String brokerProperties(Path logDir) {
        Properties p = EmbeddedKafka.brokerProperties(brokerPort, controllerPort, logDir);
        // Topics come from the gateway with their partition counts; a worker's early metadata request must not
        // create the jobs topic with one partition first.
        p.put("auto.create.topics.enable", "false");
        StringBuilder text = new StringBuilder();
        p.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        return text.toString();
    }

    private void awaitBrokerReady() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        await("the Kafka broker's port " + brokerPort, broker, () -> {
            try (java.net.Socket socket = new java.net.Socket(InetAddress.getLoopbackAddress(), brokerPort)) {
                return true;
            }
        });
        try (Admin admin = Admin.create(p)) {
            await("the Kafka broker at " + bootstrap(), broker, () -> {
                try {
                    return !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty();
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    interface Probe {
        boolean ok() throws Exception;
    }

    private void await(String what, ChildProcess process, Probe probe) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(what + " exited while starting: " + process.describe() + "\n"
                        + tail(process.output()));
            }
            try {
                if (probe.ok()) {
                    return;
                }
            } catch (Exception e) {
                // not yet
            }
            Sleep.ms(200);
        }
        throw new IllegalStateException(what + " was not ready within " + START_TIMEOUT.toSeconds() + " s: "
                + process.describe() + "\n" + tail(process.output()));
    }

    /** The HTTP status of a GET, or -1 when nothing answers. */
    int status(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static String tail(String text) {
        return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
    }
}
