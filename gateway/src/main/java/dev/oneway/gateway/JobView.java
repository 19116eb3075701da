package dev.oneway.gateway;

import dev.oneway.common.EventType;
import dev.oneway.common.JobEvent;
import dev.oneway.common.JobRequest;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * Every job's latest state, folded from the jobs topic (a job exists once its record is there) and the events
 * topic by {@link JobViewVerticle}'s follower thread, and read by the HTTP routes on the event loops, hence the
 * concurrent maps of immutable states. The routes call {@link JobViewVerticle#readToEnd} first when they need the
 * view to include everything acknowledged so far (the view itself never guesses ahead of the log).
 */
final class JobView {

    private final ConcurrentHashMap<String, JobState> jobs = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> unfinishedByTenant = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, JobRequest> firstClaims = new ConcurrentHashMap<>();
    /** Jobs this gateway got acknowledged whose records it has not read back yet: they count against the quota. */
    private final ConcurrentHashMap<String, JobRequest> acceptedNotYetRead = new ConcurrentHashMap<>();
    /** Submissions waiting for Kafka's acknowledgement on any event loop of this gateway, by tenant. */
    private final ConcurrentHashMap<String, AtomicInteger> submittingByTenant = new ConcurrentHashMap<>();
    private volatile boolean caughtUp;

    /** A submission of {@code tenant} starts (+1) or ends (-1) waiting for Kafka: it counts against the quota meanwhile. */
    void submitting(String tenant, int delta) {
        submittingByTenant.computeIfAbsent(tenant, t -> new AtomicInteger()).addAndGet(delta);
    }

    /** A job this gateway just got acknowledged: counted as unfinished at once, until its record is read back. */
    void acceptedHere(JobRequest job) {
        // Put, then look: the follower folds the record on its own thread (jobs first, then this map), so whichever
        // order the two run in, no entry outlives its record (checking before putting could leak one for good, and
        // with it a unit of the tenant's quota).
        acceptedNotYetRead.put(job.id(), job);
        if (jobs.containsKey(job.id())) {
            acceptedNotYetRead.remove(job.id());
        }
    }

    /** Folds a job record read from the jobs topic; the new state when it made a job exist, else null. */
    JobState applyRecord(JobRequest record) {
        JobState[] created = {null};
        update(record.id(), current -> {
            JobState next = JobState.withRecord(current, record);
            if (current == null) {
                created[0] = next;
            }
            return next;
        });
        acceptedNotYetRead.remove(record.id()); // after the job is in the view: see acceptedHere
        return created[0];
    }

    /** Folds one event read from the events topic; true when it changed the job (only those are fanned out). */
    boolean apply(JobEvent event) {
        if (event.type() == EventType.CLAIMED) {
            firstClaims.putIfAbsent(event.id(), event.job());
            return false;
        }
        if (event.type() == EventType.PREVIEW || event.type() == EventType.RELEASED
                || event.type() == EventType.WEBHOOK && !jobs.containsKey(event.id())) {
            // a preview is no state, nor is a worker's release of a run; a delivery outcome only ever follows its job's
            // terminal event
            return false;
        }
        return update(event.id(), current -> JobState.next(current, event));
    }

    /** The request of the first claim of an Idempotency-Key's job id read from the log, which the job is. */
    Optional<JobRequest> firstClaim(String id) {
        return Optional.ofNullable(firstClaims.get(id));
    }

    private boolean update(String id, UnaryOperator<JobState> change) {
        boolean[] changed = {false};
        jobs.compute(id, (key, current) -> {
            JobState next = change.apply(current);
            if (next != current) {
                changed[0] = true;
                int delta = (next.unfinished() ? 1 : 0) - (current != null && current.unfinished() ? 1 : 0);
                if (delta != 0) {
                    unfinishedByTenant.computeIfAbsent(next.tenant(), t -> new AtomicInteger()).addAndGet(delta);
                }
            }
            return next;
        });
        return changed[0];
    }

    /**
     * The job if its record has been read and it belongs to {@code tenant}: another tenant's job looks exactly like
     * a missing one, and so does a job known only from events (its record, which makes it exist, is still unread).
     */
    Optional<JobState> find(String id, String tenant) {
        JobState state = jobs.get(id);
        return state != null && state.request() != null && state.tenant().equals(tenant)
                ? Optional.of(state) : Optional.empty();
    }

    /**
     * The job as {@link #find} has it, else, if this gateway accepted it and has not read its record back yet (Kafka
     * went away in between), as accepted: queued. For answering reads while the log cannot be read.
     */
    Optional<JobState> findIncludingAcceptedHere(String id, String tenant) {
        return find(id, tenant).or(() -> Optional.ofNullable(acceptedNotYetRead.get(id))
                .filter(job -> job.tenant().equals(tenant))
                .map(job -> JobState.withRecord(null, job)));
    }

    /**
     * Queued or running jobs of a tenant, as far as the log has been read, plus those this gateway just accepted and
     * those it is submitting.
     */
    int unfinished(String tenant) {
        AtomicInteger count = unfinishedByTenant.get(tenant);
        AtomicInteger submitting = submittingByTenant.get(tenant);
        long mine = acceptedNotYetRead.isEmpty() ? 0 : acceptedNotYetRead.values().stream().filter(j -> j.tenant().equals(tenant)).count();
        return (count == null ? 0 : count.get()) + (submitting == null ? 0 : submitting.get()) + (int) mine;
    }

    int size() {
        return jobs.size();
    }

    boolean caughtUp() {
        return caughtUp;
    }

    void markCaughtUp() {
        caughtUp = true;
    }
}
