package dev.oneway.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Kafka cluster (KRaft, broker and controller in one process) inside this JVM, built from
 * Apache Kafka's own server classes. Its log lives under a data folder, so a restart keeps every topic,
 * record and committed offset; ports are chosen once and kept across restarts, so clients reconnect.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Path logDir;
    private int brokerPort;
    private int controllerPort;
    private KafkaRaftServer server;

    /** A broker on free ports chosen at the first start. */
    public EmbeddedKafka(Path dataDir) {
        this(dataDir, 0, 0);
    }

    /** A broker on the given ports; 0 means a free port chosen at the first start. */
    public EmbeddedKafka(Path dataDir, int brokerPort, int controllerPort) {
        this.logDir = dataDir.toAbsolutePath().resolve("kafka");
        this.brokerPort = brokerPort;
        this.controllerPort = controllerPort;
    }

    /** Formats the log folder on first use, starts broker and controller, and returns once clients can connect. */
    public synchronized EmbeddedKafka start() {
        if (server != null) {
            return this;
        }
        neverLetTheBrokerEndTheJvm();
        if (brokerPort == 0) {
            brokerPort = FreePorts.next();
        }
        if (controllerPort == 0) {
            controllerPort = FreePorts.next();
        }
        KafkaConfig config = new KafkaConfig(brokerProperties(brokerPort, controllerPort, logDir), false);
        formatOnce();
        KafkaRaftServer started = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            started.startup();
        } catch (RuntimeException e) {
            shutDown(started);
            throw new IllegalStateException("embedded Kafka broker did not start in " + logDir, e);
        }
        server = started;
        awaitBrokerReady();
        LOG.info("Embedded Kafka broker ready at {} (log in {})", bootstrapServers(), logDir);
        return this;
    }

    /** host:port for Kafka clients. */
    public synchronized String bootstrapServers() {
        if (brokerPort == 0) {
            throw new IllegalStateException("the broker has no port before its first start");
        }
        return "127.0.0.1:" + brokerPort;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    /** Creates a topic with replication factor 1 unless it exists, and returns once every partition has a leader. */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** As {@link #createTopic(String, int)}, with topic configs such as cleanup.policy. */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        try (Admin admin = admin()) {
            try {
                admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("could not create topic " + name, e.getCause());
                }
            }
            awaitLeaders(admin, name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + name, e);
        }
    }

    /** Shuts broker and controller down cleanly; the log folder and ports stay for {@link #start()}. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        shutDown(server);
        server = null;
        LOG.info("Embedded Kafka broker at 127.0.0.1:{} stopped", brokerPort);
    }

    /** Stop, then start again on the same log folder and ports: what a broker outage looks like to clients. */
    public synchronized void restart() {
        stop();
        start();
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * The settings of a one-node KRaft broker (broker and controller in one) on 127.0.0.1; also used to start Apache
     * Kafka's own broker as a separate process in the multi-process fault test.
     */
    public static Properties brokerProperties(int brokerPort, int controllerPort, Path logDir) {
        Properties p = new Properties();
        p.put("node.id", String.valueOf(NODE_ID));
        p.put("process.roles", "broker,controller");
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("log.dirs", logDir.toString());
        // One node: every internal topic must make do with one replica, and a handful of partitions
        // (instead of 50) lets the first consumer group find its coordinator without a long wait.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        // A fresh consumer group should get its partitions at once, not after the default 3 s.
        p.put("group.initial.rebalance.delay.ms", "0");
        // The default reserves 128 MB of heap for compaction; Oneway's topics are small.
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024));
        // Sized for a laptop or a 2-core CI machine rather than a production broker.
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("background.threads", "2");
        return p;
    }

    private void formatOnce() {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            return;
        }
        try {
            Files.createDirectories(logDir);
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setMetadataLogDirectory(logDir.toString())
                    .setDirectories(List.of(logDir.toString()))
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .setIgnoreFormatted(true)
                    .run();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create Kafka log folder " + logDir, e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot format Kafka log folder " + logDir, e);
        }
    }

    private void awaitBrokerReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (Admin admin = admin()) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    // Not accepting requests yet.
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("embedded Kafka broker at " + bootstrapServers()
                            + " did not answer within " + READY_TIMEOUT.toSeconds() + " s");
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the embedded broker", e);
        }
    }

    private static void awaitLeaders(Admin admin, String topic) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                if (d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                    return;
                }
            } catch (ExecutionException e) {
                // Metadata not propagated yet.
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("topic " + topic + " has partitions without a leader");
    }

    private Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        return Admin.create(p);
    }

    private static void shutDown(KafkaRaftServer s) {
        try {
            s.shutdown();
            s.awaitShutdown();
        } catch (RuntimeException e) {
            LOG.warn("Embedded Kafka broker did not shut down cleanly", e);
        }
    }

    /**
     * Kafka calls Exit.halt/exit on fatal broker faults (a broken log folder, a lost controller); in an
     * embedded broker that would take the gateway, the worker and every test down with it. The fault is
     * logged and thrown on the faulting thread instead.
     */
    private static synchronized void neverLetTheBrokerEndTheJvm() {
        Exit.setExitProcedure((status, message) -> {
            LOG.error("Embedded Kafka asked to exit the JVM (status {}): {}", status, message);
            throw new IllegalStateException("embedded Kafka fault (exit " + status + "): " + message);
        });
        Exit.setHaltProcedure((status, message) -> {
            LOG.error("Embedded Kafka asked to halt the JVM (status {}): {}", status, message);
            throw new IllegalStateException("embedded Kafka fault (halt " + status + "): " + message);
        });
    }
}
