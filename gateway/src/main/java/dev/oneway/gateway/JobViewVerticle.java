package dev.oneway.gateway;

import dev.oneway.common.EventType;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.LogFollower;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Topics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import io.vertx.core.Context;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every model's jobs topic and the events topic from the beginning and folds both into the {@link JobView}, so any
 * gateway answers for any job and a restarted one loses nothing. A job exists once its record is on the jobs
 * topic (that one write is its acceptance); the rest of its life comes from the events topic. Each change then goes
 * to every listener (the WebSocket hub of each HTTP event loop), on the listener's own context and in log order:
 * a new record as {@code job.queued}, an event as itself. The view and this verticle's methods are safe to use from
 * any event loop.
 *
 * <p>Deployment completes once the view has read every record that existed when it started.
 */
final class JobViewVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(JobViewVerticle.class);
    /** How long a request waits for the view to read the log to its end. */
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(3);

    private final OnewayConfig config;
    private final JobView view;
    private final String clientId;
    /** Each HTTP event loop's hub, by its context: the same event object goes to each, in log order. */
    private final Map<Context, Consumer<JobEvent>> listeners = new ConcurrentHashMap<>();
    private LogFollower follower;
    private List<String> jobsTopics;

    JobViewVerticle(OnewayConfig config, JobView view, String clientId) {
        this.config = config;
        this.view = view;
        this.clientId = clientId;
    }

    /** From now on, each change of the view is handed to {@code listener} on {@code context}. */
    void addListener(Context context, Consumer<JobEvent> listener) {
        listeners.put(context, listener);
    }

    void removeListener(Context context) {
        listeners.remove(context);
    }

    @Override
    public Future<?> start() {
        // Every model's jobs topic: a job accepted by any gateway, for any model, is in this view after a read barrier.
        jobsTopics = Topics.jobs(config);
        String eventsTopic = config.get(Setting.EVENTS_TOPIC);
        List<String> topics = new ArrayList<>(jobsTopics);
        topics.add(eventsTopic);
        follower = new LogFollower(KafkaSettings.eventsReader(config, clientId), topics, clientId, this::fold);
        log.info("replaying jobs and job events from {} and {}", jobsTopics, eventsTopic);
        return Future.fromCompletionStage(follower.start().thenRun(() -> {
            view.markCaughtUp();
            log.info("job view caught up: {} jobs", view.size());
        }), context);
    }

    @Override
    public Future<?> stop() {
        return vertx.executeBlocking(() -> {
            follower.close();
            return null;
        });
    }

    /**
     * The read barrier before a gateway answers for a job: completes on {@code caller} once the view holds everything
     * on both topics at the time of the call, from any gateway (read-your-writes, monotonic reads); fails when Kafka
     * is away. For a decision that must not be guessed (which claim came first, whether a cancel counted).
     */
    Future<Void> readToEnd(Context caller) {
        return follower.sync(caller, SYNC_TIMEOUT);
    }

    /** {@link #readToEnd}, but while Kafka is away the view is used as it is: for reads, where a stale answer beats none. */
    Future<Void> readToEndOrAsIs(Context caller) {
        return readToEnd(caller).recover(err -> {
            log.debug("answering from the view as it is; the log could not be read to its end: {}", err.toString());
            return Future.succeededFuture();
        });
    }

    /** On the follower's thread, for each record in partition order. */
    private void fold(ConsumerRecord<String, String> record) {
        JsonObject json = new JsonObject(record.value());
        JobEvent changed;
        if (jobsTopics.contains(record.topic())) {
            JobState created = view.applyRecord(JobRequest.fromJson(json));
            changed = created == null ? null : JobEvent.queued(created.request());
        } else {
            JobEvent event = JobEvent.fromJson(json);
            changed = event.type() == EventType.PREVIEW ? event // fanned out to its owner, never folded
                    : !view.apply(event) ? null
                    : event.type() == EventType.CANCEL_REQUESTED // clients see the outcome, not the request
                            ? JobEvent.canceled(event.id(), event.tenant(), event.at())
                            : event;
        }
        // History replayed at start has no audience: WebSocket clients connect only once caught up.
        if (changed != null && view.caughtUp()) {
            listeners.forEach((context, listener) -> context.runOnContext(v -> listener.accept(changed)));
        }
    }
}
