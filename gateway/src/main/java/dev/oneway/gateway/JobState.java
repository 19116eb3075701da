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
 * What the gateway knows about one job: its record from the jobs topic (the one durable fact that makes it
 * accepted) folded with its events. {@code request} is null while only events have been read (the two topics
 * are read side by side, so a fast worker's job.started can come first).
 *
 * <p>The rules every reader applies alike, so that all of them agree on each job's one outcome:
 * the first record of an id on the jobs topic is the job (a later one is a duplicate from a racing gateway and
 * is never run); a cancel request counts only when no job.started came before it on the job's events partition
 * (a worker that started first wins, and DELETE answers 409); nothing changes a terminal job; progress never
 * goes backwards. A job.webhook event (the delivery's outcome) is the one event a terminal job still takes: it changes
 * only {@code webhook}; a job.preview changes nothing (it is fanned out, not folded).
 */
record JobState(String id, String tenant, JobStatus status, JobRequest request, Instant startedAt, Instant finishedAt,
                Integer batchSize, JsonObject progress, JsonObject timings, ImageResult result, ErrorInfo error,
                JsonObject webhook) {

    /** The state once the job's record is read; {@code current} itself for a duplicate record. */
    static JobState withRecord(JobState current, JobRequest record) {
        if (current == null) {
            return new JobState(record.id(), record.tenant(), JobStatus.QUEUED, record, null, null, null, null, null,
                    null, null, null);
        }
        if (current.request != null || !current.tenant.equals(record.tenant())) {
            return current;
        }
        return new JobState(current.id, current.tenant, current.status, record, current.startedAt, current.finishedAt,
                current.batchSize, current.progress, current.timings, current.result, current.error, current.webhook);
    }

    /** The state after {@code event}; {@code current} itself when the event changes nothing. */
    static JobState next(JobState current, JobEvent event) {
        JobState state = current != null ? current
                : new JobState(event.id(), event.tenant(), null, null, null, null, null, null, null, null, null, null);
        return state.apply(event);
    }

    boolean unfinished() {
        return !status.terminal();
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
        if (event.type() == EventType.WEBHOOK) { // the delivery's outcome, after the terminal event: not a state
            return new JobState(id, tenant, status, request, startedAt, finishedAt, batchSize, progress, timings, result,
                    error, event.webhook());
        }
        // Exactly one terminal state: a late progress event or a redelivered job's events never reopen a job.
        if (status != null && status.terminal()) {
            return this;
        }
        return switch (event.type()) {
            case PREVIEW, WEBHOOK -> this; // a preview is fanned out, not folded (and WEBHOOK is taken above)
            case RELEASED -> this; // a worker's bookkeeping of its runs (JobView never folds it)
            case CLAIMED -> this; // a claim decides which request a keyed job is; the record makes it exist
            case QUEUED -> status == null
                    ? new JobState(id, tenant, JobStatus.QUEUED, event.job(), null, null, null, null, null, null, null, webhook)
                    : this;
            case STARTED, RETRYING -> new JobState(id, tenant, JobStatus.RUNNING, request,
                    startedAt != null ? startedAt : event.at(), null, event.batchSize(), null, null, null, null, webhook);
            case PROGRESS -> isAhead(event.progress(), progress)
                    ? new JobState(id, tenant, JobStatus.RUNNING, request, startedAt != null ? startedAt : event.at(), null,
                            batchSize, event.progress(), null, null, null, webhook)
                    : this;
            case SUCCEEDED -> new JobState(id, tenant, JobStatus.SUCCEEDED, request, startedAt, event.at(),
                    event.batchSize() != null ? event.batchSize() : batchSize, null, event.timings(), event.result(), null,
                    webhook);
            case FAILED -> new JobState(id, tenant, JobStatus.FAILED, request, startedAt, event.at(), batchSize,
                    null, null, null, event.error(), webhook);
            case CANCELED, CANCEL_REQUESTED -> status == null || status == JobStatus.QUEUED
                    ? new JobState(id, tenant, JobStatus.CANCELED, request, startedAt, event.at(), batchSize,
                            null, null, null, null, webhook)
                    : this; // a worker started the job first: the cancel came too late and the job runs to its end
        };
    }

    /** Progress moves forward through the engine's stages; a retried attempt does not repeat them to the client. */
    private static boolean isAhead(JsonObject next, JsonObject current) {
        return current == null || fraction(next) > fraction(current);
    }

    private static double fraction(JsonObject progress) {
        int total = progress.getInteger("total", 1);
        return total <= 0 ? 0 : progress.getInteger("done", 0) / (double) total;
    }
}
