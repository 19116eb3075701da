package dev.oneway.standalone;

import ai.djl.util.Utils;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Shutdown;
import dev.oneway.common.Topics;
import dev.oneway.embedded.EmbeddedKafka;
import dev.oneway.embedded.EmbeddedS3;
import dev.oneway.embedded.FreePorts;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.gateway.GatewayVerticle;
import dev.oneway.worker.EngineLoader;
import dev.oneway.worker.ImageEngine;
import dev.oneway.worker.ServedModel;
import dev.oneway.worker.WorkerHttpServer;
import dev.oneway.worker.WorkerMetrics;
import dev.oneway.worker.Workers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole of Oneway in one JVM: a Kafka broker and an S3 server (embedded, or external ones), the
 * gateway and the worker verticles over one loaded engine. {@link Standalone} runs it for people; tests
 * start it on free ports under a temporary folder and stop or restart single parts to see what survives.
 *
 * <p>Every method blocks until the part is up or down; call them from a plain thread, never an event loop.
 */
public final class OnewaySystem implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OnewaySystem.class);
    private static final long STEP_TIMEOUT_S = 120;

    private final OnewayConfig config;
    private final EmbeddedKafka kafka;
    private final EmbeddedS3 s3;
    /** The models served, in ONEWAY_MODELS order (the default first unless ONEWAY_DEFAULT_MODEL says otherwise). */
    private final List<ServedModel> models;
    private final List<ImageEngine.Guarded> engineResources;
    private final Vertx vertx;
    private final WorkerMetrics workerMetrics = new WorkerMetrics();
    private final WorkerHttpServer workerHttp;
    private String gatewayDeployment;
    private String workerDeployment;

    private OnewaySystem(OnewayConfig config, EmbeddedKafka kafka, EmbeddedS3 s3, List<ServedModel> models,
                         List<ImageEngine.Guarded> engineResources, Vertx vertx) {
        this.config = config;
        this.kafka = kafka;
        this.s3 = s3;
        this.models = models;
        this.engineResources = engineResources;
        this.vertx = vertx;
        this.workerHttp = new WorkerHttpServer(config, workerMetrics);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The configuration every part runs with, including the addresses chosen at start. */
    public OnewayConfig config() {
        return config;
    }

    /** http://127.0.0.1:port of the gateway. */
    public String baseUrl() {
        return "http://127.0.0.1:" + config.get(Setting.HTTP_PORT);
    }

    public int httpPort() {
        return config.getInt(Setting.HTTP_PORT);
    }

    /**
     * http://127.0.0.1:port of the worker's health and metrics server. It runs from start to close whether or not
     * job consumers are deployed, as a worker process's server does; its port is a free one unless
     * ONEWAY_WORKER_HTTP_PORT is set.
     */
    public String workerBaseUrl() {
        return "http://127.0.0.1:" + workerHttpPort();
    }

    public int workerHttpPort() {
        return workerHttp.actualPort();
    }

    /** The embedded broker, or null when Kafka is external. */
    public EmbeddedKafka kafka() {
        return kafka;
    }

    /** The embedded S3 server, or null when S3 is external. */
    public EmbeddedS3 s3() {
        return s3;
    }

    /** The defaults and limits of the deployment's default model. */
    public ModelDefaults modelDefaults() {
        return modelDefaults(config.defaultModel());
    }

    public ModelDefaults modelDefaults(String model) {
        return models.stream().filter(m -> m.name().equals(model)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no model " + model)).engine().defaults();
    }

    /** The models the workers serve, in configuration order. */
    public List<ServedModel> models() {
        return models;
    }

    public Vertx vertx() {
        return vertx;
    }

    public synchronized void startGateway() {
        if (gatewayDeployment == null) {
            gatewayDeployment = await(vertx.deployVerticle(new GatewayVerticle(config)), "start the gateway");
        }
    }

    /** Undeploys the gateway: its HTTP server and job view go away; Kafka keeps every event. */
    public synchronized void stopGateway() {
        if (gatewayDeployment != null) {
            await(vertx.undeploy(gatewayDeployment), "stop the gateway");
            gatewayDeployment = null;
        }
    }

    /** A fresh gateway on the same port, rebuilding its view of every job from the events topic. */
    public void restartGateway() {
        stopGateway();
        startGateway();
    }

    /** Deploys ONEWAY_WORKER_INSTANCES job consumers. */
    public void startWorkers() {
        startWorkers(config.getInt(Setting.WORKER_INSTANCES));
    }

    public synchronized void startWorkers(int instances) {
        if (workerDeployment == null) {
            workerDeployment = await(Workers.deploy(vertx, config, models, instances, workerMetrics), "start the workers");
        }
    }

    /** Stops the workers gracefully: running batches finish and are committed; waiting jobs stay in Kafka. */
    public synchronized void stopWorkers() {
        if (workerDeployment != null) {
            await(vertx.undeploy(workerDeployment), "stop the workers");
            workerDeployment = null;
        }
    }

    private void startWorkerHttp() {
        await(vertx.deployVerticle(workerHttp), "start the worker's health and metrics server");
        workerHttp.modelLoaded(); // loaded before anything else started
    }

    @Override
    public synchronized void close() {
        try {
            stopGateway();
        } catch (RuntimeException e) {
            LOG.warn("Gateway did not stop cleanly: {}", e.toString());
        }
        try {
            stopWorkers();
        } catch (RuntimeException e) {
            LOG.warn("Workers did not stop cleanly: {}", e.toString());
        }
        try {
            await(vertx.close(), "close Vert.x");
        } catch (RuntimeException e) {
            LOG.warn("Vert.x did not close cleanly: {}", e.toString());
        }
        for (ImageEngine.Guarded engine : engineResources) {
            try {
                if (!engine.closeWhenIdle(Shutdown.CLOSE_MARGIN_MS)) {
                    LOG.warn("A handed-back batch is still inside the engine; leaving it open as the process ends");
                }
            } catch (Exception e) {
                LOG.warn("Engine did not close cleanly: {}", e.toString());
            }
        }
        if (s3 != null) {
            s3.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static <T> T await(Future<T> future, String what) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(STEP_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("could not " + what + " within " + STEP_TIMEOUT_S + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while trying to " + what, e);
        }
    }

    /** A port the system needs is in use by another process; the message names the setting to change. */
    public static final class PortTakenException extends IllegalStateException {
        PortTakenException(String message) {
            super(message);
        }
    }

    /** What to start. Settings come from an environment map (ONEWAY_* names) plus explicit overrides. */
    public static final class Builder {
        private final Map<String, String> settings = new HashMap<>();
        private Path dataDir;
        private boolean embeddedKafka = true;
        private boolean embeddedS3 = true;
        private boolean startGateway = true;
        private boolean startWorkers = true;
        private UnaryOperator<ImageEngine> engineWrapper = UnaryOperator.identity();

        private Builder() { }

        /** Wraps each loaded engine, e.g. to make chosen jobs fail in fault tests. */
        public Builder wrapEngine(UnaryOperator<ImageEngine> wrapper) {
            this.engineWrapper = wrapper;
            return this;
        }

        /** Settings as environment variables, e.g. System.getenv(); later calls win. */
        public Builder environment(Map<String, String> env) {
            env.forEach((name, value) -> {
                if (name.startsWith("ONEWAY_")) {
                    settings.put(name, value);
                }
            });
            return this;
        }

        public Builder set(Setting setting, Object value) {
            settings.put(setting.envName(), String.valueOf(value));
            return this;
        }

        /** Where the embedded broker and S3 server keep their data; default ONEWAY_DATA_DIR. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** Use the Kafka at ONEWAY_KAFKA_BOOTSTRAP instead of starting a broker. */
        public Builder externalKafka(String bootstrapServers) {
            embeddedKafka = false;
            return set(Setting.KAFKA_BOOTSTRAP, bootstrapServers);
        }

        /** Use the S3 server at this endpoint (with ONEWAY_S3_ACCESS_KEY/SECRET_KEY) instead of starting one. */
        public Builder externalS3(String endpoint) {
            embeddedS3 = false;
            return set(Setting.S3_ENDPOINT, endpoint);
        }

        /** Leave the workers undeployed, e.g. to queue jobs that no worker takes yet. */
        public Builder withoutWorkers() {
            startWorkers = false;
            return this;
        }

        public Builder withoutGateway() {
            startGateway = false;
            return this;
        }

        public OnewaySystem start() {
            OnewayConfig config = OnewayConfig.from(settings);
            Path data = dataDir != null ? dataDir : Path.of(config.get(Setting.DATA_DIR));
            if (config.getInt(Setting.HTTP_PORT) == 0) {
                // Chosen once, so a restarted gateway is found where the first one was.
                config = config.with(Setting.HTTP_PORT, FreePorts.next());
            }
            if (!settings.containsKey(Setting.WORKER_HTTP_PORT.envName())) {
                // One JVM needs no well-known worker port; a free one keeps 8081 out of the way.
                config = config.with(Setting.WORKER_HTTP_PORT, 0);
            }
            if (!settings.containsKey(Setting.WEBHOOK_ALLOW_PRIVATE.envName())) {
                // One machine: its webhooks usually go to a receiver on the same machine or network.
                config = config.with(Setting.WEBHOOK_ALLOW_PRIVATE, true);
            }
            // Free ports unless named: tests and benchmarks run side by side. Standalone names the documented ones.
            for (Setting port : List.of(Setting.EMBEDDED_KAFKA_PORT, Setting.EMBEDDED_S3_PORT)) {
                if (!settings.containsKey(port.envName())) {
                    config = config.with(port, 0);
                }
            }
            requireFree(config, Setting.HTTP_PORT, "the gateway");
            requireFree(config, Setting.WORKER_HTTP_PORT, "the worker's health and metrics server");
            if (embeddedKafka) {
                requireFree(config, Setting.EMBEDDED_KAFKA_PORT, "the embedded Kafka broker");
            }
            if (embeddedS3) {
                requireFree(config, Setting.EMBEDDED_S3_PORT, "the embedded S3 server");
            }
            EmbeddedKafka kafka = null;
            EmbeddedS3 s3 = null;
            List<EngineLoader.LoadedModel> loaded = List.of();
            Vertx vertx = null;
            try {
                if (embeddedKafka) {
                    kafka = new EmbeddedKafka(data, config.getInt(Setting.EMBEDDED_KAFKA_PORT), 0).start();
                    config = config.with(Setting.KAFKA_BOOTSTRAP, kafka.bootstrapServers());
                }
                if (embeddedS3) {
                    s3 = new EmbeddedS3(data, config.get(Setting.S3_ACCESS_KEY), config.get(Setting.S3_SECRET_KEY),
                            config.getInt(Setting.EMBEDDED_S3_PORT)).start();
                    config = config.with(Setting.S3_ENDPOINT, s3.endpoint());
                }
                if (kafka != null) {
                    for (String topic : Topics.all(config)) {
                        kafka.createTopic(topic, config.getInt(Setting.JOBS_PARTITIONS), Topics.configs(config, topic));
                    }
                }
                // Without its log line about the tiny models: a person running the standalone reads that warning once,
                // in the banner (Standalone), not also inside a JSON log line.
                sayLoading();
                loaded = EngineLoader.loadAll(config, false);
                List<ServedModel> served = loaded.stream()
                        .map(m -> new ServedModel(m.name(), m.dir(), engineWrapper.apply(m.engine()))).toList();
                vertx = Vertx.vertx();
                OnewaySystem system = new OnewaySystem(config, kafka, s3, served,
                        loaded.stream().map(EngineLoader.LoadedModel::engine).toList(), vertx);
                system.startWorkerHttp();
                // The gateway first: against an external Kafka it creates missing topics, which the workers need.
                if (startGateway) {
                    system.startGateway();
                }
                if (startWorkers) {
                    system.startWorkers();
                }
                return system;
            } catch (RuntimeException e) {
                if (vertx != null) {
                    vertx.close();
                }
                loaded.forEach(m -> m.engine().closeNow());
                if (s3 != null) {
                    s3.close();
                }
                if (kafka != null) {
                    kafka.close();
                }
                throw e;
            }
        }

        /**
         * On a first run DJL unpacks libtorch (about 430 MB) out of its jar before anything else can happen: say so,
         * so that the pause between "S3 server ready" and "Loaded model" does not look like a hang.
         */
        private static void sayLoading() {
            Path torchCache = Utils.getEngineCacheDir("pytorch");
            LOG.info(Files.isDirectory(torchCache)
                    ? "Loading the PyTorch engine and the models"
                    : "Loading the PyTorch engine and the models (first run: unpacking libtorch, about 430 MB, into "
                            + torchCache + ")");
        }

        /** Refuses to start, naming the setting, when a chosen port is taken (0 = any free port, never taken). */
        private static void requireFree(OnewayConfig config, Setting port, String what) {
            int number = config.getInt(port);
            if (number == 0) {
                return;
            }
            try (ServerSocket probe = new ServerSocket()) {
                probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), number), 1);
            } catch (IOException e) {
                throw new PortTakenException(port.envName() + "=" + number + ": port " + number + " is in use, so "
                        + what + " cannot listen there (another Oneway, Kafka or MinIO?). Stop that process, or set "
                        + port.envName() + " to a free port (0 = any free port).");
            }
        }
    }
}
