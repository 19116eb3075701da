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
import io.vertx.core.Context;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every model's jobs topic and the events topic from the beginning and folds both into the {@link JobView}, so any
 * gateway answers for any job and a restarted one loses nothing. A job exists once its record is on the jobs
 * topic (that one write is its acceptance); the rest of its life comes from the events topic. Changes are then
 * published on a local event-bus address for the WebSocket fan-out: a new record as {@code job.queued}, an
 * event as itself.
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
    private final String fanOutAddress;
    private LogFollower follower;
    private List<String> jobsTopics;

    JobViewVerticle(OnewayConfig config, JobView view, String clientId, String fanOutAddress) {
        this.config = config;
        this.view = view;
        this.clientId = clientId;
        this.fanOutAddress = fanOutAddress;
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
        JsonObject changed;
        if (jobsTopics.contains(record.topic())) {
            JobState created = view.applyRecord(JobRequest.fromJson(json));
            changed = created == null ? null : JobEvent.queued(created.request()).toJson();
        } else {
            JobEvent event = JobEvent.fromJson(json);
            changed = !view.apply(event) ? null
                    : event.type() == EventType.CANCEL_REQUESTED // clients see the outcome, not the request
                            ? JobEvent.canceled(event.id(), event.tenant(), event.at()).toJson()
                            : event.toJson();
        }
        // History replayed at start has no audience: WebSocket clients connect only once caught up.
        if (changed != null && view.caughtUp()) {
            vertx.eventBus().publish(fanOutAddress, changed);
        }
    }
}
