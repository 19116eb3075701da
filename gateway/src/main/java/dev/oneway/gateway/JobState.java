package dev.oneway.gateway;

import dev.oneway.common.ErrorInfo;
import dev.oneway.common.EventType;
import dev.oneway.common.ImageResult;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import dev.oneway.common.JobStatus;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * What the gateway knows about one job: the fold of its events. {@code request} is null only for a job
 * whose queued event this gateway never read (written by something other than a gateway).
 */
record JobState(String id, String tenant, JobStatus status, JobRequest request, Instant startedAt, Instant finishedAt,
                Integer batchSize, JsonObject progress, JsonObject timings, ImageResult result, ErrorInfo error) {

    /** The state after {@code event}; {@code current} itself when the event changes nothing. */
    static JobState next(JobState current, JobEvent event) {
        JobState state = current != null ? current
                : new JobState(event.id(), event.tenant(), null, null, null, null, null, null, null, null, null);
        return state.apply(event);
    }

    boolean unfinished() {
        return !status.terminal();
    }

    /** A job whose submission Kafka did not acknowledge in time: the client was answered 503. */
    boolean notAccepted() {
        return status == JobStatus.FAILED && error != null && JobSubmitter.NOT_ACCEPTED.equals(error.code());
    }

    /** The event that brought the job to its present state, rebuilt from the state (for replay to a reconnecting client). */
    JobEvent latestEvent() {
        return switch (status) {
            case QUEUED -> new JobEvent(EventType.QUEUED, id, tenant, request != null ? request.createdAt() : Instant.now(),
                    request, null, null, null, null, null);
            case RUNNING -> progress != null
                    ? new JobEvent(EventType.PROGRESS, id, tenant, orNow(startedAt), null, null, progress, null, null, null)
                    : new JobEvent(EventType.STARTED, id, tenant, orNow(startedAt), null, batchSize, null, null, null, null);
            case SUCCEEDED -> new JobEvent(EventType.SUCCEEDED, id, tenant, orNow(finishedAt), null, batchSize, null, timings,
                    result, null);
            case FAILED -> new JobEvent(EventType.FAILED, id, tenant, orNow(finishedAt), null, null, null, null, null, error);
            case CANCELED -> new JobEvent(EventType.CANCELED, id, tenant, orNow(finishedAt), null, null, null, null, null, null);
        };
    }

    private static Instant orNow(Instant at) {
        return at != null ? at : Instant.now();
    }

    private JobState apply(JobEvent event) {
        // Exactly one terminal state: a late progress event or a redelivered job's events never reopen a job.
        if (status != null && status.terminal()) {
            return this;
        }
        return switch (event.type()) {
            case QUEUED -> status == null
                    ? new JobState(id, tenant, JobStatus.QUEUED, event.job(), null, null, null, null, null, null, null)
                    : this;
            case STARTED -> new JobState(id, tenant, JobStatus.RUNNING, request, event.at(), null, event.batchSize(),
                    null, null, null, null);
            case PROGRESS -> new JobState(id, tenant, JobStatus.RUNNING, request,
                    startedAt != null ? startedAt : event.at(), null, batchSize, event.progress(), null, null, null);
            case SUCCEEDED -> new JobState(id, tenant, JobStatus.SUCCEEDED, request, startedAt, event.at(),
                    event.batchSize() != null ? event.batchSize() : batchSize, null, event.timings(), event.result(), null);
            case FAILED -> new JobState(id, tenant, JobStatus.FAILED, request, startedAt, event.at(), batchSize,
                    null, null, null, event.error());
            case CANCELED -> new JobState(id, tenant, JobStatus.CANCELED, request, startedAt, event.at(), batchSize,
                    null, null, null, null);
        };
    }
}
