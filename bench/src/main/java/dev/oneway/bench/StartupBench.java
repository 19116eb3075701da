package dev.oneway.bench;

import dev.oneway.common.ImageResult;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import dev.oneway.embedded.EmbeddedKafka;
import dev.oneway.embedded.EmbeddedS3;
import dev.oneway.gateway.GatewayVerticle;
import dev.oneway.worker.EngineLoader;
import dev.oneway.worker.ServedModel;
import dev.oneway.worker.WorkerMetrics;
import dev.oneway.worker.Workers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * How long a gateway and a worker take to start when the topics hold a long history: writes N past jobs (a record,
 * job.started, job.progress and job.succeeded each) to an embedded broker, then times a gateway's start (it
 * completes once its view has read both topics) and a worker's (once its events watch has read the events topic),
 * against the same on empty topics. Prints one JSON line per measurement.
 *
 * <pre>java -Dai.djl.offline=true -cp bench/target/oneway-bench.jar dev.oneway.bench.StartupBench 1000000</pre>
 */
public final class StartupBench {

    public static void main(String[] args) throws Exception {
        int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Path data = Files.createTempDirectory("oneway-startup-bench");
        try (EmbeddedKafka kafka = new EmbeddedKafka(data.resolve("kafka")).start();
             EmbeddedS3 s3 = new EmbeddedS3(data.resolve("s3"), "oneway", "oneway-secret").start()) {
            // One model (the tiny SD1.5 one), as the measurement has always been.
            List<ServedModel> tiny = EngineLoader.loadAll(OnewayConfig.from(Map.of(Setting.MODELS.envName(),
                    "tiny-sd15=tiny:sd15")), true).stream().map(EngineLoader.LoadedModel::served).toList();
            measure(kafka, s3, tiny, 0);
            measure(kafka, s3, tiny, jobs);
        }
        System.exit(0); // Kafka leaves non-daemon threads behind
    }

    private static void measure(EmbeddedKafka kafka, EmbeddedS3 s3, List<ServedModel> tiny, int jobs) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        OnewayConfig config = OnewayConfig.from(Map.of(Setting.MODELS.envName(), "tiny-sd15=tiny:sd15"))
                .with(Setting.KAFKA_BOOTSTRAP, kafka.bootstrapServers())
                .with(Setting.S3_ENDPOINT, s3.endpoint())
                .with(Setting.HTTP_PORT, 0)
                .with(Setting.WORKER_HTTP_PORT, 0)
                .with(Setting.JOBS_TOPIC, "jobs-" + run)
                .with(Setting.EVENTS_TOPIC, "events-" + run)
                .with(Setting.DEAD_LETTER_TOPIC, "dead-" + run)
                .with(Setting.CONSUMER_GROUP, "workers-" + run)
                .with(Setting.MODELS_TOPIC, "models-" + run);
        for (String topic : Topics.all(config)) {
            kafka.createTopic(topic, config.getInt(Setting.JOBS_PARTITIONS), Topics.configs(config, topic));
        }
        long writeStart = System.nanoTime();
        writeHistory(config, jobs);
        double writeS = (System.nanoTime() - writeStart) / 1e9;

        Vertx vertx = Vertx.vertx();
        try {
            long gatewayStart = System.nanoTime();
            vertx.deployVerticle(new GatewayVerticle(config)).toCompletionStage().toCompletableFuture()
                    .get(30, TimeUnit.MINUTES);
            double gatewayS = (System.nanoTime() - gatewayStart) / 1e9;
            long workerStart = System.nanoTime();
            Workers.deploy(vertx, config, tiny, 1, new WorkerMetrics()).toCompletionStage()
                    .toCompletableFuture().get(30, TimeUnit.MINUTES);
            double workerS = (System.nanoTime() - workerStart) / 1e9;
            System.out.println(new JsonObject()
                    .put("pastJobs", jobs)
                    .put("records", jobs * 4L)
                    .put("writeSeconds", round(writeS))
                    .put("gatewayStartSeconds", round(gatewayS))
                    .put("workerStartSeconds", round(workerS))
                    .put("heapUsedMb", (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20)
                    .encode());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
        }
    }

    /** Every past job as it would be on the log: its record, then started, progress and succeeded events. */
    private static void writeHistory(OnewayConfig config, int jobs) throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", config.get(Setting.KAFKA_BOOTSTRAP));
        p.put("linger.ms", "20");
        p.put("batch.size", String.valueOf(512 * 1024));
        p.put("compression.type", "lz4");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            String jobsTopic = Topics.jobs(config, "tiny-sd15");
            String eventsTopic = config.get(Setting.EVENTS_TOPIC);
            Instant at = Instant.now();
            for (int i = 0; i < jobs; i++) {
                JobRequest job = new JobRequest(UUID.randomUUID().toString(), i % 2 == 0 ? "demo" : "other",
                        "a past prompt number " + i, i, 512, 512, 4, "tiue", at, "tiny-sd15",
                        JobRequest.DEFAULT_DECODER, false, null);
                ImageResult image = new ImageResult("oneway-images", Topics.imageObjectKey(job.tenant(), job.id()),
                        "image/png", 512, 512, 391_245);
                producer.send(new ProducerRecord<>(jobsTopic, job.id(), job.toJson().encode()));
                producer.send(new ProducerRecord<>(eventsTopic, job.id(), JobEvent.started(job, 4).toJson().encode()));
                producer.send(new ProducerRecord<>(eventsTopic, job.id(), JobEvent.progress(job, "vae", 4, 4).toJson().encode()));
                producer.send(new ProducerRecord<>(eventsTopic, job.id(), JobEvent.succeeded(job, 4,
                        new JsonObject().put("engineMs", 812), image).toJson().encode()));
            }
            producer.flush();
        }
    }

    private static double round(double seconds) {
        return Math.round(seconds * 100) / 100.0;
    }
}
