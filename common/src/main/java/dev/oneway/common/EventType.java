package dev.oneway.common;

/** The kinds of job event, as they appear on the events topic and on the WebSocket ("job.succeeded"). */
public enum EventType {
    QUEUED("job.queued", JobStatus.QUEUED),
    /**
     * A gateway's claim of an Idempotency-Key's job id, with the whole request: the first claim on the job's events
     * partition decides which request the job is. Not a state (a claim alone is no job) and never sent to clients.
     */
    CLAIMED("job.claimed", null),
    STARTED("job.started", JobStatus.RUNNING),
    /** A job that had started before runs again (a redelivery, or the next attempt after a failure). */
    RETRYING("job.retrying", JobStatus.RUNNING),
    /**
     * A worker gave back a job it was running because the job's partition moved to another worker of the group (a
     * worker joined or left): that run is not counted against ONEWAY_MAX_ATTEMPTS, since the job did not end it. Not
     * a state (the job is still running, or about to run again) and never sent to clients.
     */
    RELEASED("job.released", null),
    PROGRESS("job.progress", JobStatus.RUNNING),
    /**
     * A small image of what one sampler step predicts (for jobs that asked for previews). Sent to clients but not a
     * change of state: gateways fan it out without folding it into their view.
     */
    PREVIEW("job.preview", JobStatus.RUNNING),
    SUCCEEDED("job.succeeded", JobStatus.SUCCEEDED),
    FAILED("job.failed", JobStatus.FAILED),
    CANCELED("job.canceled", JobStatus.CANCELED),
    /**
     * A client's DELETE, written by a gateway. It cancels the job only if it comes before any job.started on the
     * job's events partition; gateways then show the job canceled at once, and the worker that reaches the job's
     * record writes the terminal job.canceled. A request, not a state: it has no status and clients never see it.
     */
    CANCEL_REQUESTED("job.cancel_requested", null),
    /**
     * The outcome of a finished job's webhook delivery (delivered or failed, attempts, last HTTP status), written by
     * the deliverer after its last try. Not a state: the job stays terminal; GET shows it as the job's "webhook".
     */
    WEBHOOK("job.webhook", null);

    private final String wireName;
    private final JobStatus status;

    EventType(String wireName, JobStatus status) {
        this.wireName = wireName;
        this.status = status;
    }

    public String wireName() {
        return wireName;
    }

    /** The job status an event of this type moves the job to; null for a request (a claim, a cancel request). */
    public JobStatus status() {
        return status;
    }

    public static EventType fromWireName(String name) {
        for (EventType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown event type '" + name + "'");
    }
}
