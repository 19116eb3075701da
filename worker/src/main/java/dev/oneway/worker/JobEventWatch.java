package dev.oneway.worker;

import dev.oneway.common.JobEvent;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.LogFollower;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The worker's reading of the events topic (every partition, from the beginning, no consumer group): which jobs
 * have started, which were canceled, which already have their one terminal event.
 *
 * <p>It applies the rule every reader of the log applies (the gateway's JobState too): a cancel request counts only
 * when no job.started came before it on the job's partition. A worker writes job.started, then {@link #sync()}s,
 * then asks {@link #isCanceled}: if the cancel came first the gateway answered 200, and the worker stores no image
 * and writes the terminal job.canceled; if the start came first the gateway answered 409 and the job runs to its
 * end. Either way answer and outcome agree.
 */
final class JobEventWatch {

    private static final int REMEMBERED_IDS = 200_000;
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(10);

    private final LogFollower follower;
    private final Context context;
    private final RecentIds started = new RecentIds(REMEMBERED_IDS);
    private final RecentIds released = new RecentIds(REMEMBERED_IDS);
    private final RecentIds canceled = new RecentIds(REMEMBERED_IDS);
    private final RecentIds finished = new RecentIds(REMEMBERED_IDS);

    JobEventWatch(Context context, OnewayConfig config, String clientId) {
        this.context = context;
        this.follower = new LogFollower(KafkaSettings.eventsReader(config, clientId),
                List.of(config.get(Setting.EVENTS_TOPIC)), clientId, this::fold);
    }

    /** Starts reading and completes once every event written before this call has been seen. */
    Future<Void> start() {
        return Future.fromCompletionStage(follower.start(), context);
    }

    /** Completes once every event acknowledged before this call has been read; fails after a bounded wait. */
    Future<Void> sync() {
        return follower.sync(context, SYNC_TIMEOUT);
    }

    /** Canceled before any worker started it: the job's outcome is canceled, whatever runs now. */
    boolean isCanceled(String jobId) {
        return canceled.contains(jobId);
    }

    /** Whether some worker has started this job before (a run now is a retry, announced as job.retrying). */
    boolean hasStarted(String jobId) {
        return started.contains(jobId);
    }

    /**
     * How many runs of this job have begun on any worker: its job.started and job.retrying events. A run whose worker
     * died (killed, crashed, out of memory) counts too: a run that may repeat an earlier one has its start on the log
     * before the engine runs it (BatchLoop), and a first run's start is written as it begins. A run given back because
     * its partition moved (job.released) does not count: the job did not end it.
     */
    int runs(String jobId) {
        return Math.max(0, started.count(jobId) - released.count(jobId));
    }

    /** Whether the job's one terminal event (succeeded, failed, canceled) is on the log. */
    boolean isFinished(String jobId) {
        return finished.contains(jobId);
    }

    /** Records an outcome this worker wrote, without waiting to read it back. */
    void markFinished(String jobId) {
        finished.add(jobId);
    }

    void close() {
        follower.close();
    }

    /** On the follower's thread. */
    private void fold(ConsumerRecord<String, String> record) {
        JobEvent event = JobEvent.fromJson(new JsonObject(record.value()));
        String id = event.id();
        if (finished.contains(id)) {
            return;
        }
        switch (event.type()) {
            case STARTED, RETRYING -> started.add(id);
            case RELEASED -> released.add(id);
            case CANCEL_REQUESTED -> {
                if (!started.contains(id)) {
                    canceled.add(id);
                }
            }
            case CANCELED -> {
                canceled.add(id);
                finished.add(id);
            }
            case SUCCEEDED, FAILED -> finished.add(id);
            case QUEUED, CLAIMED, PROGRESS, PREVIEW, WEBHOOK -> { }
        }
    }
}
