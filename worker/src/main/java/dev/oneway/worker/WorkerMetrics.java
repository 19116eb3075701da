package dev.oneway.worker;

import dev.oneway.common.JobEvent;
import dev.oneway.common.PrometheusMetrics;
import dev.oneway.engine.StageTimings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the workers of one JVM did, served at the worker's /metrics: jobs finished per tenant, engine batch
 * sizes, time per engine stage, upload and queue times, and the consumer group's lag on the jobs topic.
 * Shared by every job consumer of the JVM; Micrometer meters are thread-safe.
 */
public final class WorkerMetrics {

    /** Bucket bounds for engine stages and uploads: a tiny model takes milliseconds, a real one on a CPU minutes. */
    private static final Duration[] DURATION_BUCKETS = {
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
        Duration.ofMinutes(1), Duration.ofMinutes(5)};

    private final PrometheusMeterRegistry registry = PrometheusMetrics.newRegistry();
    private final DistributionSummary batchSize = DistributionSummary.builder("oneway.batch.size")
            .description("Jobs per engine batch that produced images")
            .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64)
            .register(registry);
    private final Timer engineBatch = timer("oneway.engine.batch", "Engine time per batch, all stages").register(registry);
    private final Map<String, Timer> stages = Map.of(
            "text", stage("text"), "encoder", stage("encoder"), "decoder", stage("decoder"),
            "scheduler", stage("scheduler"), "vae", stage("vae"), "png", stage("png"));
    private final Timer upload = timer("oneway.image.upload", "Time to store one image in S3").register(registry);
    private final Timer queueWait = timer("oneway.job.queue.wait", "Time from a job's acceptance to its engine batch")
            .register(registry);
    private volatile double queueLag = Double.NaN;

    public WorkerMetrics() {
        Gauge.builder("oneway.queue.lag", this, m -> m.queueLag)
                .description("Records of the jobs topic the consumer group has not committed yet, over all partitions; "
                        + "NaN when Kafka did not answer")
                .baseUnit("records").strongReference(true).register(registry);
    }

    /** Counts a job whose terminal event Kafka acknowledged. */
    void finished(JobEvent terminal) {
        switch (terminal.type()) {
            case SUCCEEDED -> Counter.builder("oneway.jobs.succeeded").description("Jobs that got their image")
                    .tag("tenant", terminal.tenant()).register(registry).increment();
            case FAILED -> Counter.builder("oneway.jobs.failed").description("Jobs that failed, by error code")
                    .tag("tenant", terminal.tenant()).tag("code", terminal.error().code()).register(registry).increment();
            default -> { }
        }
    }

    /** One engine call that produced its images: its size and where its time went. */
    void engineBatch(int jobs, StageTimings t) {
        batchSize.record(jobs);
        engineBatch.record(nanos(t.totalMs()), TimeUnit.NANOSECONDS);
        stages.get("text").record(nanos(t.textMs()), TimeUnit.NANOSECONDS);
        stages.get("encoder").record(nanos(t.encoderMs()), TimeUnit.NANOSECONDS);
        stages.get("decoder").record(nanos(t.decoderMs()), TimeUnit.NANOSECONDS);
        stages.get("scheduler").record(nanos(t.schedulerMs()), TimeUnit.NANOSECONDS);
        stages.get("vae").record(nanos(t.vaeMs()), TimeUnit.NANOSECONDS);
        stages.get("png").record(nanos(t.pngMs()), TimeUnit.NANOSECONDS);
    }

    /** The batch policy's running mean of seconds per image for one shape and batch size; registered once per pair. */
    void batchPolicySize(BatchPolicy policy, String shape, int size) {
        Gauge.builder("oneway.batch.policy.image", policy, p -> p.secondsPerImage(shape, size))
                .description("Engine seconds per image measured by the batch policy, by batch shape and batch size")
                .baseUnit("seconds").tag("shape", shape).tag("size", String.valueOf(size))
                .strongReference(true).register(registry);
    }

    /** The batch size the policy forms for one shape (the best throughput measured); registered once per shape. */
    void batchPolicyChoice(BatchPolicy policy, String shape) {
        Gauge.builder("oneway.batch.policy.size", policy, p -> p.chosen(shape))
                .description("Jobs per batch the batch policy forms for a batch shape: the size with the best measured throughput")
                .tag("shape", shape).strongReference(true).register(registry);
    }

    void uploaded(double ms) {
        upload.record(nanos(ms), TimeUnit.NANOSECONDS);
    }

    void waitedInQueue(Duration wait) {
        queueWait.record(wait);
    }

    /** The last measured lag; NaN when it could not be measured. */
    void queueLag(double records) {
        this.queueLag = records;
    }

    String scrape() {
        return registry.scrape();
    }

    private Timer stage(String stage) {
        return timer("oneway.engine.stage", "Engine time per batch and stage").tag("stage", stage).register(registry);
    }

    private static Timer.Builder timer(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(DURATION_BUCKETS);
    }

    private static long nanos(double ms) {
        return Math.round(ms * 1e6);
    }
}
