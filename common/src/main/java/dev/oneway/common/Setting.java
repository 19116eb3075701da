package dev.oneway.common;

/**
 * Every ONEWAY_* variable, its default and its meaning. This list is the configuration's single
 * source: {@link OnewayConfig} reads only these, and README's table is checked against it.
 */
public enum Setting {
    HTTP_PORT("8080", "Gateway HTTP port (REST API, WebSocket, playground)."),
    API_KEYS("demo:demo-key", "Comma-separated tenant:key pairs, e.g. alpha:key-1,beta:key-2."),
    KAFKA_BOOTSTRAP("localhost:9092", "Kafka bootstrap servers (the standalone starts its own broker and ignores this)."),
    JOBS_TOPIC("oneway.jobs", "Prefix of the jobs topics: each model's jobs go to <prefix>.<model> (key = job id), so each model's workers consume and scale on their own."),
    EVENTS_TOPIC("oneway.job-events", "Topic of job events (key = job id); the gateway's view is built from it."),
    JOBS_PARTITIONS("6", "Partitions of the jobs topic when Oneway creates it; bounds how many workers share the load."),
    CONSUMER_GROUP("oneway-workers", "Prefix of the workers' consumer groups: the workers of a model form the group <prefix>.<model>."),
    KAFKA_ACK_TIMEOUT_MS("10000", "How long POST /v1/jobs waits for Kafka to acknowledge a job before answering 503."),
    S3_ENDPOINT("http://localhost:9000", "S3/MinIO endpoint (the standalone starts its own S3 server and ignores this)."),
    S3_PUBLIC_ENDPOINT("", "Endpoint used in presigned URLs handed to clients; empty = S3_ENDPOINT."),
    S3_ACCESS_KEY("oneway", "S3 access key."),
    S3_SECRET_KEY("oneway-secret", "S3 secret key."),
    S3_BUCKET("oneway-images", "Bucket for finished images (created if missing)."),
    S3_REGION("us-east-1", "S3 region."),
    PRESIGN_EXPIRY_SECONDS("900", "Lifetime of presigned image URLs."),
    MODEL_DIR("", "One diffusers-layout TiUE model folder, served under the folder's name (shorthand for ONEWAY_MODELS=<name>=<folder>); ignored when ONEWAY_MODELS is set."),
    DEVICE("auto", "Engine device: auto, cpu or gpu."),
    DTYPE("auto", "Engine precision: auto (float16 on GPU, float32 on CPU), float32, float16, or bfloat16 (CPU only: "
            + "convolutions and linear layers in bfloat16, 1.75x faster on a CPU with AVX512_BF16; pixels within a few levels of float32's)."),
    BATCH_INVARIANT("auto", "auto, true or false: whether a job's image must be bit-for-bit the same whatever its batch mates (auto: yes on CPU, no on GPU; false batches convolutions for throughput)."),
    TAESD_DIR("", "TAESD folder (diffusers AutoencoderTiny: config.json, diffusion_pytorch_model.safetensors) for jobs with decoder taesd, used when the model folder has no vae_tiny/; empty = none."),
    MAX_BATCH_SIZE("8", "Most jobs a worker runs in one engine batch."),
    MAX_BATCH_PIXELS("", "Most pixels (width x height, summed over its jobs) a worker puts in one batch, as a batch's memory grows with them; empty: 1048576 on the CPU (one 1024x1024 image, four 512x512: SD1.5 in bfloat16 peaks at about 12.5 GB for one 1024x1024 image) and no limit on a GPU; 0: no limit. A job larger than the limit runs alone."),
    MAX_BATCH_WAIT_MS("5", "Longest a worker waits for batch mates after the first job of a batch arrives, when its engine is idle (jobs that arrive while a batch runs form the next batch anyway). Jobs of a shape that arrive alone (on average 4 waits apart or more) do not wait."),
    BATCH_POLICY("measured", "measured or fixed: how many jobs a worker puts in a batch. measured: the size with the best throughput the worker measured for that job shape (size, steps, sampler), learned online from its batches (1, 2, 4, ... while each is cheaper per image) within ONEWAY_MAX_BATCH_SIZE and ONEWAY_MAX_BATCH_WAIT_MS; fixed: as many as wait, up to ONEWAY_MAX_BATCH_SIZE."),
    WORKER_HTTP_PORT("8081", "Worker HTTP port: /health/live, /health/ready and /metrics; 0 = any free port (the standalone's default)."),
    WORKER_INSTANCES("1", "Worker verticles per worker JVM (each consumes in the same group)."),
    WORKER_ID("", "Stable identity of a worker (e.g. its pod or host name): a static member of the consumer group, so a restarted worker takes its partitions straight back instead of waiting out the session timeout (a worker stopped on purpose still leaves the group at once); empty = dynamic membership."),
    LOG_RETENTION_HOURS("168", "How long the jobs and events topics keep records when Oneway creates them; bounds what a starting gateway or worker replays."),
    MAX_PROMPT_CHARS("2000", "Longest prompt the gateway accepts, in characters."),
    MAX_BODY_BYTES("65536", "Largest request body the gateway reads; larger answers 413."),
    MAX_UNFINISHED_JOBS_PER_TENANT("100", "Most queued or running jobs one tenant may have; more answers 429."),
    JOBS_PER_MINUTE_PER_TENANT("600", "Submissions per minute one tenant may make to one gateway; more answers 429."),
    WS_PING_INTERVAL_MS("20000", "How often the gateway pings WebSocket clients so idle connections stay open."),
    DEAD_LETTER_TOPIC("oneway.jobs.dead", "Topic a job goes to after ONEWAY_MAX_ATTEMPTS failed attempts (its owner gets job.failed)."),
    MAX_ATTEMPTS("3", "Runs a job gets when the engine or the upload fails (each re-queued on the jobs topic) or its worker dies while running it, before it is dead-lettered."),
    S3_UPLOAD_ATTEMPTS("8", "Upload tries per image before the attempt counts as failed; waits double from ONEWAY_S3_UPLOAD_BACKOFF_MS up to 30 s."),
    S3_UPLOAD_BACKOFF_MS("500", "Wait before the second upload try; each further wait doubles (at most 30 s)."),
    KAFKA_FETCH_MAX_WAIT_MS("500", "Longest a Kafka consumer's fetch waits at the broker when there is nothing new (Kafka's fetch.max.wait.ms, whose default this is). The broker answers a waiting fetch as soon as a record arrives, and read barriers ask their end offsets on a connection of their own, so a job, an event or a barrier is not held by it; lower only adds idle fetches (an idle standalone used 0.15 CPU cores at 500, 0.39 at 50 and 0.57 at 10)."),
    KAFKA_SESSION_TIMEOUT_MS("45000", "How long a worker may go silent before the group hands its partitions to another worker."),
    SHUTDOWN_GRACE_MS("30000", "On SIGTERM: how long a worker may finish its batch (else hands it back) and a gateway may drain, before exiting."),
    DATA_DIR("./data", "Standalone only: where the embedded broker keeps its log and the S3 server its objects."),
    EMBEDDED_KAFKA_PORT("9092", "Standalone only: port of the embedded Kafka broker on 127.0.0.1 (where the ONEWAY_KAFKA_BOOTSTRAP default points); 0 = any free port."),
    EMBEDDED_S3_PORT("9000", "Standalone only: port of the embedded S3 server on 127.0.0.1 (where the ONEWAY_S3_ENDPOINT default points); 0 = any free port."),
    HTTP_INSTANCES("auto", "HTTP/WebSocket server verticles of a gateway, each on its own event loop, sharing the port and the job view; auto = one per CPU core."),
    WS_MAX_MESSAGE_BYTES("65536", "Largest WebSocket message (and frame) a client may send the gateway; a larger one closes the connection with 1009."),
    WS_WRITE_QUEUE_BYTES("262144", "Bytes of events the gateway holds for one WebSocket client that does not read them; an event that finds the queue still full closes the connection (1008, too slow)."),
    WEBHOOK_SECRETS("", "Webhook signing secrets, comma-separated tenant=whsec_<base64> pairs (Standard Webhooks); a tenant without one signs with a secret derived from its first API key (GET /v1/webhook-secret shows it)."),
    WEBHOOK_ALLOW_PRIVATE("false", "Whether webhook URLs may resolve to loopback, private, link-local or other non-public addresses (checked at submission and again before each send). The standalone sets it to true unless set."),
    WEBHOOK_RETRY_SECONDS("3600", "How long a webhook delivery is retried (exponential backoff from 1 s to 5 min) before it is recorded as failed."),
    MAX_STEPS("50", "Most sampler steps a worker accepts on any model it serves: it announces the smaller of this and the model's own limit (its scheduler's num_train_timesteps)."),
    MODELS("", "Models served, comma-separated name=folder (a diffusers folder, or tiny:sd15 / tiny:sd21 for a generated model); a gateway reads only the names. Empty = ONEWAY_MODEL_DIR, else tiny-sd15=tiny:sd15,tiny-sd21=tiny:sd21."),
    DEFAULT_MODEL("", "Model of a job that names none; empty = the first of ONEWAY_MODELS."),
    MODELS_TOPIC("oneway.models", "Compacted topic on which workers announce the models they serve and their limits (key = model|worker); gateways follow it."),
    MODEL_ANNOUNCE_INTERVAL_MS("10000", "How often a worker announces its models; an announcement not renewed within three intervals counts as a worker gone.");

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
