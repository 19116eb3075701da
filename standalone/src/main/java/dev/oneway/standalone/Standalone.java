package dev.oneway.standalone;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Shutdown;
import dev.oneway.common.Topics;
import dev.oneway.engine.ModelDefaults;
import dev.oneway.worker.EngineLoader;
import dev.oneway.worker.ServedModel;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar standalone/target/oneway-standalone.jar}: Kafka, S3, gateway and worker in one JVM, with
 * broker log and images under ONEWAY_DATA_DIR. Prints where to send requests and with which key.
 */
public final class Standalone {
    private static final Logger LOG = LoggerFactory.getLogger(Standalone.class);

    private Standalone() { }

    public static void main(String[] args) {
        OnewayConfig env = OnewayConfig.fromEnv();
        Path dataDir = Path.of(env.get(Setting.DATA_DIR)).toAbsolutePath().normalize();
        OnewaySystem system;
        try {
            system = OnewaySystem.builder()
                    .environment(System.getenv())
                    // The documented ports (or the ONEWAY_EMBEDDED_*_PORT given), so that tools, scripts and presigned
                    // URLs find Kafka and S3 in the same place after every restart. The builder alone picks free ports.
                    .set(Setting.EMBEDDED_KAFKA_PORT, env.getInt(Setting.EMBEDDED_KAFKA_PORT))
                    .set(Setting.EMBEDDED_S3_PORT, env.getInt(Setting.EMBEDDED_S3_PORT))
                    .dataDir(dataDir)
                    .start();
        } catch (OnewaySystem.PortTakenException e) {
            System.err.println("Oneway did not start: " + e.getMessage());
            System.exit(2);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("Oneway stopping");
            system.close();
            LOG.info("Oneway stopped");
            Shutdown.flushLogs();
        }, "oneway-standalone-shutdown"));
        Shutdown.exitZeroOnStopSignals();
        System.out.print(banner(system, dataDir));
    }

    private static String banner(OnewaySystem system, Path dataDir) {
        OnewayConfig config = system.config();
        StringBuilder b = new StringBuilder();
        if (EngineLoader.usesTinyModel(config)) {
            b.append(EngineLoader.NO_MODEL_WARNING).append('\n');
        }
        b.append("\nOneway is running.\n");
        b.append("  Playground: ").append(system.baseUrl()).append("/\n");
        b.append("  API:        ").append(system.baseUrl()).append("/v1/jobs\n");
        b.append("  WebSocket:  ws://127.0.0.1:").append(system.httpPort()).append("/v1/events\n");
        b.append("  Metrics:    ").append(system.baseUrl()).append("/metrics (gateway), ")
                .append(system.workerBaseUrl()).append("/metrics (worker)\n");
        b.append("  Health:     ").append(system.baseUrl()).append("/health/ready (gateway), ")
                .append(system.workerBaseUrl()).append("/health/ready (worker)\n");
        b.append("  Models:     GET ").append(system.baseUrl()).append("/v1/models; a job names one with \"model\"\n");
        for (ServedModel model : system.models()) {
            ModelDefaults d = model.engine().defaults();
            b.append("    ").append(model.name()).append(model.name().equals(config.defaultModel()) ? " (default)" : "")
                    .append(": ").append(model.family()).append(", default ").append(d.width()).append('x')
                    .append(d.height()).append(", ").append(d.steps()).append(" steps, sampler ")
                    .append(d.sampler().wireName()).append("; width and height multiples of ").append(d.sizeMultiple())
                    .append(" up to ").append(d.maxSide()).append(", 1 to ")
                    .append(Math.min(d.maxSteps(), config.getInt(Setting.MAX_STEPS))).append(" steps; decoders ")
                    .append(String.join(", ", model.decoders())).append("; jobs topic ")
                    .append(Topics.jobs(config, model.name())).append('\n');
        }
        b.append("  Limits:     prompts up to ").append(config.get(Setting.MAX_PROMPT_CHARS)).append(" characters\n");
        b.append("  Data:       ").append(dataDir).append('\n');
        String kafka = system.kafka().bootstrapServers();
        String s3 = system.s3().endpoint();
        String bucket = config.get(Setting.S3_BUCKET);
        b.append("  Kafka:      ").append(kafka).append("  (topics ").append(String.join(", ", Topics.all(config))).append(")\n");
        b.append("  S3:         ").append(s3).append("  (bucket ").append(bucket).append(", access key ")
                .append(config.get(Setting.S3_ACCESS_KEY)).append(", secret key ").append(config.get(Setting.S3_SECRET_KEY))
                .append(", region ").append(config.get(Setting.S3_REGION)).append(")\n");
        for (Map.Entry<String, String> keyAndTenant : config.apiKeys().entrySet()) {
            b.append("  API key:    ").append(keyAndTenant.getKey()).append("  (tenant ").append(keyAndTenant.getValue()).append(")\n");
        }
        String key = config.apiKeys().keySet().stream().findFirst().orElse("<key>");
        b.append("\nTry:\n");
        b.append("  curl -s -X POST ").append(system.baseUrl()).append("/v1/jobs \\\n")
                .append("       -H 'Authorization: Bearer ").append(key).append("' -H 'Content-Type: application/json' \\\n")
                .append("       -d '{\"prompt\": \"a lighthouse at dawn\", \"seed\": 42}'\n");
        b.append("  curl -s ").append(system.baseUrl()).append("/v1/jobs/<id> -H 'Authorization: Bearer ").append(key).append("'\n");
        b.append("\nWatch:\n");
        b.append("  kcat -b ").append(kafka).append(" -C -t ").append(config.get(Setting.EVENTS_TOPIC))
                .append(" -f '%k %s\\n'\n");
        b.append("  AWS_ACCESS_KEY_ID=").append(config.get(Setting.S3_ACCESS_KEY)).append(" AWS_SECRET_ACCESS_KEY=")
                .append(config.get(Setting.S3_SECRET_KEY)).append(" aws --endpoint-url ").append(s3).append(" --region ")
                .append(config.get(Setting.S3_REGION)).append(" s3 ls s3://").append(bucket).append(" --recursive\n");
        b.append("\nStop with Ctrl-C.\n");
        return b.toString();
    }
}
