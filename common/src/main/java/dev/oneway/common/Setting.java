package dev.oneway.common;

/**
 * Every ONEWAY_* variable, its default and its meaning. This list is the configuration's single
 * source: {@link OnewayConfig} reads only these, and README's table is checked against it.
 */
public enum Setting {
    HTTP_PORT("8080", "Gateway HTTP port (REST API, WebSocket, playground)."),
    API_KEYS("demo:demo-key", "Comma-separated tenant:key pairs, e.g. alpha:key-1,beta:key-2."),
    KAFKA_BOOTSTRAP("localhost:9092", "Kafka bootstrap servers (the standalone starts its own broker and ignores this)."),
    JOBS_TOPIC("oneway.jobs", "Topic jobs are produced to (key = job id)."),
    EVENTS_TOPIC("oneway.job-events", "Topic of job events (key = job id); the gateway's view is built from it."),
    JOBS_PARTITIONS("6", "Partitions of the jobs topic when Oneway creates it; bounds how many workers share the load."),
    CONSUMER_GROUP("oneway-workers", "Consumer group of the workers."),
    KAFKA_ACK_TIMEOUT_MS("10000", "How long POST /v1/jobs waits for Kafka to acknowledge a job before answering 503."),
    S3_ENDPOINT("http://localhost:9000", "S3/MinIO endpoint (the standalone starts its own S3 server and ignores this)."),
    S3_PUBLIC_ENDPOINT("", "Endpoint used in presigned URLs handed to clients; empty = S3_ENDPOINT."),
    S3_ACCESS_KEY("oneway", "S3 access key."),
    S3_SECRET_KEY("oneway-secret", "S3 secret key."),
    S3_BUCKET("oneway-images", "Bucket for finished images (created if missing)."),
    S3_REGION("us-east-1", "S3 region."),
    PRESIGN_EXPIRY_SECONDS("900", "Lifetime of presigned image URLs."),
    MODEL_DIR("", "Diffusers-layout TiUE model folder; empty = the generated tiny model (noise images)."),
    DEVICE("auto", "Engine device: auto, cpu or gpu."),
    DTYPE("auto", "Engine precision: auto (float16 on GPU, float32 on CPU), float32 or float16."),
    BATCH_INVARIANT("auto", "auto, true or false: whether a job's image must be bit-for-bit the same whatever its batch mates (auto: yes on CPU, no on GPU; false batches convolutions for throughput)."),
    MAX_BATCH_SIZE("8", "Most jobs a worker runs in one engine batch."),
    MAX_BATCH_WAIT_MS("5", "Longest a worker waits for batch mates after the first job of a batch arrives, when its engine is idle (jobs that arrive while a batch runs form the next batch anyway)."),
    BATCH_POLICY("measured", "measured or fixed: how many jobs a worker puts in a batch. measured: the size with the best throughput the worker measured for that job shape (size, steps, sampler), learned online from its batches (1, 2, 4, ... while each is cheaper per image) within ONEWAY_MAX_BATCH_SIZE and ONEWAY_MAX_BATCH_WAIT_MS; fixed: as many as wait, up to ONEWAY_MAX_BATCH_SIZE."),
    WORKER_HTTP_PORT("8081", "Worker HTTP port: /health/live, /health/ready and /metrics; 0 = any free port (the standalone's default)."),
    WORKER_INSTANCES("1", "Worker verticles per worker JVM (each consumes in the same group)."),
    WORKER_ID("", "Stable identity of a worker (e.g. its pod or host name): a static member of the consumer group, so a restarted worker takes its partitions straight back instead of waiting out the session timeout (a worker stopped on purpose still leaves the group at once); empty = dynamic membership."),
    LOG_RETENTION_HOURS("168", "How long the jobs and events topics keep records when Oneway creates them; bounds what a starting gateway or worker replays."),
    DEFAULT_WIDTH("512", "Width of a job that names none (the model's native size; SD1.5: 512). The standalone uses its model's unless set: 64 for the quick start's tiny model."),
    DEFAULT_HEIGHT("512", "Height of a job that names none (the model's native size; SD1.5: 512). The standalone uses its model's unless set: 64 for the quick start's tiny model."),
    DEFAULT_STEPS("4", "Steps K of a job that names none (Loopfree models are trained for 4)."),
    DEFAULT_SAMPLER("tiue", "Sampler of a job that names none: tiue or looped."),
    SIZE_MULTIPLE("64", "Width and height must be multiples of this: 8 x 2^(UNet downsamplers), 64 for SD1.5. The standalone uses its model's unless set: 16 for the tiny model."),
    MAX_SIDE("1024", "Largest width or height a job may ask for. The standalone uses twice its model's native size unless set: 128 for the tiny model."),
    MAX_STEPS("50", "Most steps a job may ask for."),
    MAX_PROMPT_CHARS("2000", "Longest prompt the gateway accepts, in characters."),
    MAX_BODY_BYTES("65536", "Largest request body the gateway reads; larger answers 413."),
    MAX_UNFINISHED_JOBS_PER_TENANT("100", "Most queued or running jobs one tenant may have; more answers 429."),
    JOBS_PER_MINUTE_PER_TENANT("600", "Submissions per minute one tenant may make to one gateway; more answers 429."),
    WS_PING_INTERVAL_MS("20000", "How often the gateway pings WebSocket clients so idle connections stay open."),
    DEAD_LETTER_TOPIC("oneway.jobs.dead", "Topic a job goes to after ONEWAY_MAX_ATTEMPTS failed attempts (its owner gets job.failed)."),
    MAX_ATTEMPTS("3", "Attempts a job gets when the engine or the upload fails (each re-queued on the jobs topic) before it is dead-lettered."),
    S3_UPLOAD_ATTEMPTS("8", "Upload tries per image before the attempt counts as failed; waits double from ONEWAY_S3_UPLOAD_BACKOFF_MS up to 30 s."),
    S3_UPLOAD_BACKOFF_MS("500", "Wait before the second upload try; each further wait doubles (at most 30 s)."),
    KAFKA_SESSION_TIMEOUT_MS("45000", "How long a worker may go silent before the group hands its partitions to another worker."),
    SHUTDOWN_GRACE_MS("30000", "On SIGTERM: how long a worker may finish its batch (else hands it back) and a gateway may drain, before exiting."),
    DATA_DIR("./data", "Standalone only: where the embedded broker keeps its log and the S3 server its objects."),
    EMBEDDED_KAFKA_PORT("9092", "Standalone only: port of the embedded Kafka broker on 127.0.0.1 (where the ONEWAY_KAFKA_BOOTSTRAP default points); 0 = any free port."),
    EMBEDDED_S3_PORT("9000", "Standalone only: port of the embedded S3 server on 127.0.0.1 (where the ONEWAY_S3_ENDPOINT default points); 0 = any free port.");

    private final String defaultValue;
    private final String description;

    Setting(String defaultValue, String description) {
        this.defaultValue = defaultValue;
        this.description = description;
    }

    /** The environment variable, e.g. ONEWAY_HTTP_PORT. */
    public String envName() {
        return "ONEWAY_" + name();
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }
}
