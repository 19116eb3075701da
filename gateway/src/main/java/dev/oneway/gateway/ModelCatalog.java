package dev.oneway.gateway;

import dev.oneway.common.KafkaSettings;
import dev.oneway.common.LogFollower;
import dev.oneway.common.ModelAnnouncement;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Timestamps;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models this gateway accepts jobs for, and what their workers announce about them. The names come from the
 * deployment (ONEWAY_MODELS: they fix which jobs topics exist and which ones the job view follows); everything else
 * (family, sizes, steps, samplers, decoders, how many workers serve it now) comes from the workers' announcements on
 * the compacted models topic, which this catalog follows from the beginning.
 *
 * <p>A model's limits are those of its latest announcement from a live worker, else its latest announcement at all
 * (workers may all be away: jobs are then accepted and wait in its topic). A model no worker ever announced has no
 * known limits, and jobs for it are refused with 503 until one does.
 */
final class ModelCatalog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ModelCatalog.class);
    /** How long a request for a model without known limits waits to read the models topic to its end. */
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(3);

    private final List<String> names;
    private final String defaultModel;
    private final LogFollower follower;
    /** The announcements in force, by record key (model|worker); tombstones remove them. */
    private final Map<String, ModelAnnouncement> announced = new ConcurrentHashMap<>();
    /** The latest announcement of each model ever read, kept when its worker stops: its limits outlive it. */
    private final Map<String, ModelAnnouncement> lastKnown = new ConcurrentHashMap<>();
    private final Set<String> ignored = ConcurrentHashMap.newKeySet();

    ModelCatalog(OnewayConfig config, String clientId) {
        this.names = List.copyOf(config.models().keySet());
        this.defaultModel = config.defaultModel();
        String topic = config.get(Setting.MODELS_TOPIC);
        this.follower = new LogFollower(KafkaSettings.eventsReader(config, clientId), List.of(topic), clientId, this::fold);
    }

    /** Completes once every announcement on the topic at start has been read. */
    CompletableFuture<Void> start() {
        return follower.start();
    }

    /** The model names jobs may ask for, in configuration order. */
    List<String> names() {
        return names;
    }

    String defaultModel() {
        return defaultModel;
    }

    boolean serves(String model) {
        return names.contains(model);
    }

    /**
     * The limits jobs for {@code model} are held to; when none are known yet the models topic is read to its end
     * first (a worker may have announced a moment ago). Fails with the API's errors: 400 for a model this deployment
     * does not serve, 503 for one no worker has announced.
     */
    Future<ModelAnnouncement> limitsFor(String model, Context caller) {
        if (!serves(model)) {
            return Future.failedFuture(ApiError.invalid("unknown model '" + model + "'; the models are "
                    + String.join(", ", names) + " (GET /v1/models)"));
        }
        Optional<ModelAnnouncement> known = limits(model);
        if (known.isPresent()) {
            return Future.succeededFuture(known.get());
        }
        return follower.sync(caller, SYNC_TIMEOUT).transform(ar -> limits(model)
                .map(Future::succeededFuture)
                .orElseGet(() -> Future.failedFuture(ApiError.unavailable("model_unavailable", "no worker has announced "
                        + "model '" + model + "' yet, so its limits are unknown; retry once a worker serving it has "
                        + "started", 5))));
    }

    /** See the class comment; empty when no worker ever announced the model. */
    Optional<ModelAnnouncement> limits(String model) {
        Instant now = Instant.now();
        Optional<ModelAnnouncement> live = announced.values().stream()
                .filter(a -> a.model().equals(model) && a.liveAt(now))
                .max(Comparator.comparing(ModelAnnouncement::announcedAt));
        return live.isPresent() ? live : Optional.ofNullable(lastKnown.get(model));
    }

    /** Workers whose announcement of {@code model} is in force now. */
    int workers(String model) {
        Instant now = Instant.now();
        return (int) announced.values().stream().filter(a -> a.model().equals(model) && a.liveAt(now)).count();
    }

    /**
     * GET /v1/models, after reading the models topic to its end (a worker that announced a moment ago is counted);
     * while Kafka is away, from what has been read.
     */
    Future<JsonObject> describe(Context caller) {
        return follower.sync(caller, SYNC_TIMEOUT).transform(ar -> Future.succeededFuture(describe()));
    }

    /** Every model of the deployment with its limits, defaults and workers now. */
    JsonObject describe() {
        JsonArray models = new JsonArray();
        for (String name : names) {
            JsonObject m = new JsonObject().put("name", name).put("default", name.equals(defaultModel));
            Optional<ModelAnnouncement> limits = limits(name);
            int workers = workers(name);
            m.put("status", workers > 0 ? "ready" : limits.isPresent() ? "no_workers" : "not_announced");
            m.put("workers", workers);
            limits.ifPresent(a -> m.put("family", a.family())
                    .put("nativeWidth", a.width())
                    .put("nativeHeight", a.height())
                    .put("sizeMultiple", a.sizeMultiple())
                    .put("maxSide", a.maxSide())
                    .put("defaultSteps", a.defaultSteps())
                    .put("maxSteps", a.maxSteps())
                    .put("samplers", new JsonArray(a.samplers()))
                    .put("defaultSampler", a.defaultSampler())
                    .put("decoders", new JsonArray(a.decoders()))
                    .put("announcedAt", Timestamps.format(a.announcedAt())));
            models.add(m);
        }
        return new JsonObject().put("defaultModel", defaultModel).put("models", models);
    }

    @Override
    public void close() {
        follower.close();
    }

    /** On the follower's thread, in order per key. */
    private void fold(ConsumerRecord<String, String> record) {
        String model = ModelAnnouncement.modelOfKey(record.key());
        if (!serves(model)) {
            if (ignored.add(model)) {
                log.info("a worker announces model '{}', which this gateway does not serve (ONEWAY_MODELS); ignored", model);
            }
            return;
        }
        if (record.value() == null) {
            announced.remove(record.key()); // a worker stopped on purpose
            return;
        }
        ModelAnnouncement a = ModelAnnouncement.fromJson(new JsonObject(record.value()));
        if (ModelAnnouncement.isWorkerKey(record.key())) {
            announced.put(record.key(), a);
        }
        lastKnown.merge(model, a, (old, next) -> next.announcedAt().isBefore(old.announcedAt()) ? old : next);
    }
}
