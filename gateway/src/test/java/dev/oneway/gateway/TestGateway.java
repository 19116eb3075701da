package dev.oneway.gateway;

import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.ModelAnnouncement;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A real gateway on a free port against the shared broker and S3 server, with its own topics, and the
 * clients a user would use: Vert.x HTTP and WebSocket clients, plus Kafka clients standing in for the worker.
 */
final class TestGateway implements AutoCloseable {

    static final String ALPHA_KEY = "alpha-secret-key";
    static final String BETA_KEY = "beta-secret-key";

    final SharedInfrastructure infra = SharedInfrastructure.get();
    final OnewayConfig config;
    final Vertx vertx = Vertx.vertx();
    final HttpClient http;
    final WebSocketClient webSockets;
    private final Context clientContext = vertx.getOrCreateContext();
    private final KafkaProducer<String, String> worker;
    private GatewayVerticle gateway;
    private String deploymentId;

    /** An SD1.5-like model: 512x512 by default, multiples of 64 up to 1024, 4 steps by default, at most 50. */
    static final String SD15 = "sd15";
    /** A tiny model: 64x64 by default, multiples of 16 up to 128. */
    static final String TINY = "tiny";

    /**
     * What a worker serving a model with these limits announces, valid for a minute: the SD1.5 model (the default)
     * with both decoders, the others with the VAE only.
     */
    static ModelAnnouncement announcement(String model, int nativeSide, int sizeMultiple, int maxSide, int defaultSteps,
                                          int maxSteps) {
        Instant now = Instant.now();
        List<String> decoders = model.equals(SD15) ? List.of("vae", "taesd") : List.of("vae");
        return new ModelAnnouncement(model, "test-worker-" + model, "sd15", nativeSide, nativeSide, sizeMultiple, maxSide,
                defaultSteps, maxSteps, List.of("tiue", "looped"), "tiue", decoders, now, now.plusSeconds(60));
    }

    /** sd15 (the default) and tiny, each announced by one worker. */
    TestGateway(Map<Setting, Object> overrides) {
        this(overrides, announcement(SD15, 512, 64, 1024, 4, 50), announcement(TINY, 64, 16, 128, 4, 50));
    }

    /**
     * A gateway serving the announced models (ONEWAY_MODELS names them, the first is the default, unless the overrides
     * say otherwise); each is announced on the models topic once the gateway has created it, as a worker would.
     */
    TestGateway(Map<Setting, Object> overrides, ModelAnnouncement... announcements) {
        String topicPrefix = "t" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new HashMap<>();
        env.put(Setting.HTTP_PORT.envName(), "0");
        env.put(Setting.API_KEYS.envName(), "alpha:" + ALPHA_KEY + ",beta:" + BETA_KEY);
        env.put(Setting.KAFKA_BOOTSTRAP.envName(), infra.kafka.bootstrapServers());
        env.put(Setting.JOBS_TOPIC.envName(), topicPrefix + ".jobs");
        env.put(Setting.EVENTS_TOPIC.envName(), topicPrefix + ".events");
        env.put(Setting.MODELS_TOPIC.envName(), topicPrefix + ".models");
        env.put(Setting.MODELS.envName(), String.join(",", java.util.Arrays.stream(announcements).map(ModelAnnouncement::model).toList()));
        env.put(Setting.JOBS_PARTITIONS.envName(), "3");
        env.put(Setting.S3_ENDPOINT.envName(), infra.s3.endpoint());
        env.put(Setting.S3_ACCESS_KEY.envName(), SharedInfrastructure.S3_ACCESS_KEY);
        env.put(Setting.S3_SECRET_KEY.envName(), SharedInfrastructure.S3_SECRET_KEY);
        env.put(Setting.S3_BUCKET.envName(), SharedInfrastructure.BUCKET);
        env.put(Setting.MAX_BODY_BYTES.envName(), "4096");
        overrides.forEach((setting, value) -> env.put(setting.envName(), String.valueOf(value)));
        config = OnewayConfig.from(env);
        http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("localhost"));
        webSockets = vertx.createWebSocketClient();
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.get(Setting.KAFKA_BOOTSTRAP)); // the gateway's broker
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        worker = new KafkaProducer<>(props);
        deploy();
        for (ModelAnnouncement a : announcements) {
            announce(a);
        }
    }

    /** What a worker does when it starts, and again every announce interval. */
    void announce(ModelAnnouncement a) {
        try {
            worker.send(new ProducerRecord<>(config.get(Setting.MODELS_TOPIC), a.key(), a.toJson().encode())).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A raw record on the models topic (null: a tombstone). */
    void sendModelRecord(String key, String value) {
        try {
            worker.send(new ProducerRecord<>(config.get(Setting.MODELS_TOPIC), key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The jobs topic of the default model. */
    String jobsTopic() {
        return Topics.jobs(config, config.defaultModel());
    }

    TestGateway() {
        this(Map.of());
    }

    /** Deploys a fresh GatewayVerticle; returns once it listens and has replayed the events topic. */
    void deploy() {
        gateway = new GatewayVerticle(config);
        deploymentId = await(vertx.deployVerticle(gateway));
    }

    /** Stops this gateway and starts a new instance against the same broker and topics. */
    void restart() {
        await(vertx.undeploy(deploymentId));
        deploy();
    }

    int port() {
        return gateway.actualPort();
    }

    Router router() {
        return gateway.router();
    }

    record Response(int status, MultiMap headers, String body) {
        JsonObject json() {
            return new JsonObject(body);
        }

        String errorCode() {
            return json().getJsonObject("error").getString("code");
        }

        String errorMessage() {
            return json().getJsonObject("error").getString("message");
        }
    }

    Response send(HttpMethod method, String path, String apiKey, Map<String, String> headers, Buffer body) {
        RequestOptions options = new RequestOptions().setMethod(method).setPort(port()).setURI(path);
        if (apiKey != null) {
            options.putHeader("Authorization", "Bearer " + apiKey);
        }
        headers.forEach(options::putHeader);
        return await(onClientContext(() -> http.request(options)
                .compose(request -> body == null ? request.send() : request.send(body))
                .compose(response -> response.body().map(b -> new Response(response.statusCode(), response.headers(), b.toString())))));
    }

    /**
     * Runs client calls on one Vert.x context: started from the test thread, a response could otherwise
     * arrive on the connection's event loop before the body handler was set on another.
     */
    <T> Future<T> onClientContext(Supplier<Future<T>> call) {
        Promise<T> promise = Promise.promise();
        clientContext.runOnContext(v -> call.get().onComplete(promise));
        return promise.future();
    }

    Response get(String path, String apiKey) {
        return send(HttpMethod.GET, path, apiKey, Map.of(), null);
    }

    Response delete(String path, String apiKey) {
        return send(HttpMethod.DELETE, path, apiKey, Map.of(), null);
    }

    Response postJob(String apiKey, JsonObject body) {
        return postJob(apiKey, body, Map.of());
    }

    Response postJob(String apiKey, JsonObject body, Map<String, String> headers) {
        Map<String, String> all = new HashMap<>(headers);
        all.putIfAbsent("Content-Type", "application/json");
        return send(HttpMethod.POST, "/v1/jobs", apiKey, all, body.toBuffer());
    }

    /** Posts a job that must be accepted, and returns its id. */
    String submit(String apiKey, String prompt) {
        Response response = postJob(apiKey, new JsonObject().put("prompt", prompt));
        if (response.status() != 202) {
            throw new AssertionError("expected 202, got " + response.status() + " " + response.body());
        }
        return response.json().getString("id");
    }

    /** Polls GET /v1/jobs/{id} until the job satisfies {@code condition}, as a client would. */
    JsonObject awaitJob(String id, String apiKey, Predicate<JsonObject> condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        JsonObject job = null;
        while (System.nanoTime() < deadline) {
            Response response = get("/v1/jobs/" + id, apiKey);
            job = response.status() == 200 ? response.json() : null;
            if (job != null && condition.test(job)) {
                return job;
            }
            sleep(50);
        }
        throw new AssertionError("job " + id + " did not reach the expected state; last seen " + job);
    }

    /** Downloads a presigned URL the way a browser would, without credentials. */
    Buffer download(String url) {
        return await(onClientContext(() -> http.request(new RequestOptions().setAbsoluteURI(url))
                .compose(request -> request.send())
                .compose(response -> {
                    if (response.statusCode() != 200) {
                        return Future.failedFuture("GET " + url + " answered " + response.statusCode());
                    }
                    return response.body();
                })));
    }

    /** A job as a worker sees it; the event factories only take its id and tenant from it. */
    static JobRequest workerCopy(String id, String tenant) {
        return new JobRequest(id, tenant, "as the worker read it", 0, 512, 512, 4, "tiue", Instant.now());
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** What a worker does: append an event to the events topic. */
    void publishEvent(JobEvent event) {
        try {
            worker.send(new ProducerRecord<>(config.get(Setting.EVENTS_TOPIC), event.id(), event.toJson().encode())).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes a job record as another gateway would (or a second one, as a racing gateway would). */
    void publishJob(JobRequest job) {
        try {
            String model = job.model() != null ? job.model() : config.defaultModel();
            worker.send(new ProducerRecord<>(Topics.jobs(config, model), job.id(), job.toJson().encode())).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes many job records at once, as many gateways would, and returns once Kafka has them all. */
    void publishJobs(List<JobRequest> jobs) {
        List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
        for (JobRequest job : jobs) {
            String model = job.model() != null ? job.model() : config.defaultModel();
            sent.add(worker.send(new ProducerRecord<>(Topics.jobs(config, model), job.id(), job.toJson().encode())));
        }
        try {
            for (java.util.concurrent.Future<?> f : sent) {
                f.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a topic from the beginning until {@code done} holds for what was read, or fails after 20 s. */
    List<ConsumerRecord<String, String>> readTopic(Setting topic, Predicate<List<ConsumerRecord<String, String>>> done) {
        return readTopic(config.get(topic), done);
    }

    List<ConsumerRecord<String, String>> readTopic(String topic, Predicate<List<ConsumerRecord<String, String>>> done) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.get(Setting.KAFKA_BOOTSTRAP));
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<ConsumerRecord<String, String>> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!done.test(read)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("topic " + topic + " did not reach the expected state; read " + read.size());
                }
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
            }
        }
        return read;
    }

    /** A WebSocket client that keeps every text frame it receives. */
    final class Socket {
        final WebSocket socket;
        final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
        final AtomicInteger pings = new AtomicInteger();

        Socket(WebSocket socket) {
            this.socket = socket;
            socket.textMessageHandler(text -> frames.add(new JsonObject(text)));
            socket.frameHandler(frame -> {
                if (frame.isPing()) {
                    pings.incrementAndGet();
                }
            });
        }

        JsonObject next() {
            try {
                JsonObject frame = frames.poll(15, TimeUnit.SECONDS);
                if (frame == null) {
                    throw new AssertionError("no WebSocket frame within 15 s");
                }
                return frame;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        /** The next frame that satisfies {@code wanted}, skipping others (such as other jobs' events). */
        JsonObject nextWhere(Predicate<JsonObject> wanted) {
            while (true) {
                JsonObject frame = next();
                if (wanted.test(frame)) {
                    return frame;
                }
            }
        }

        JsonObject nextFor(String jobId) {
            return nextWhere(frame -> jobId.equals(frame.getString("id")));
        }

        /** Error frames are the HTTP error body: {"error": {...}}, with no event type. */
        JsonObject nextError() {
            return nextWhere(frame -> !frame.containsKey("type") && frame.containsKey("error")).getJsonObject("error");
        }

        JsonObject nextSubscribedAck() {
            return nextWhere(frame -> "subscribed".equals(frame.getString("type")));
        }

        void send(String text) {
            await(onClientContext(() -> socket.writeTextMessage(text)));
        }

        void sendBinary(Buffer data) {
            await(onClientContext(() -> socket.writeBinaryMessage(data)));
        }
    }

    Future<WebSocket> openSocket(String uri, String authorizationHeader) {
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("localhost").setPort(port()).setURI(uri);
        if (authorizationHeader != null) {
            options.addHeader("Authorization", authorizationHeader);
        }
        return onClientContext(() -> webSockets.connect(options));
    }

    Socket connect(String apiKey) {
        // The frame handler is set as the connection completes, on its event loop, so no frame slips by.
        return await(openSocket("/v1/events", "Bearer " + apiKey).map(Socket::new));
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        worker.close();
        await(vertx.close());
    }
}
