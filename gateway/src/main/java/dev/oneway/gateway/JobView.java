package dev.oneway.gateway;

import dev.oneway.common.JobEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every job's latest state, folded from the events topic by {@link JobViewVerticle} and read by the
 * HTTP routes on another event loop, hence the concurrent maps of immutable states.
 *
 * <p>Events this gateway wrote itself are overlaid until the topic delivers them back, so a client
 * that was answered 202 (or 200 on cancel) reads its own write at once.
 */
final class JobView {

    private final ConcurrentHashMap<String, JobState> jobs = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, List<JobEvent>> writtenNotYetRead = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> unfinishedByTenant = new ConcurrentHashMap<>();
    private volatile boolean caughtUp;

    /** Folds one event read from the events topic; true when it changed the job (only those are fanned out). */
    boolean apply(JobEvent event) {
        boolean[] changed = {false};
        // The overlay is updated inside compute, under the job's lock, so it never races with wrote().
        jobs.compute(event.id(), (id, current) -> {
            writtenNotYetRead.computeIfPresent(id, (key, written) -> without(written, event));
            JobState next = JobState.next(current, event);
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

    /** Remembers an event this gateway wrote and Kafka acknowledged; returns the job's state with it. */
    JobState wrote(JobEvent event) {
        jobs.compute(event.id(), (id, current) -> {
            if (JobState.next(current, event) != current) { // else the topic has delivered it already
                writtenNotYetRead.merge(id, List.of(event), JobView::concat);
            }
            return current;
        });
        return find(event.id(), event.tenant()).orElseThrow();
    }

    /** The job if it exists and belongs to {@code tenant}: another tenant's job looks exactly like a missing one. */
    Optional<JobState> find(String id, String tenant) {
        JobState state = withOwnWrites(id, jobs.get(id));
        return state != null && state.tenant().equals(tenant) ? Optional.of(state) : Optional.empty();
    }

    /**
     * Queued or running jobs of a tenant. This gateway's writes not yet read back count as they will:
     * an accepted job adds one at once, a cancellation frees its slot at once.
     */
    int unfinished(String tenant) {
        AtomicInteger inTopic = unfinishedByTenant.get(tenant);
        int count = inTopic == null ? 0 : inTopic.get();
        for (String id : writtenNotYetRead.keySet()) {
            JobState read = jobs.get(id);
            JobState overlaid = withOwnWrites(id, read);
            if (overlaid != null && overlaid.tenant().equals(tenant)) {
                count += (overlaid.unfinished() ? 1 : 0) - (read != null && read.unfinished() ? 1 : 0);
            }
        }
        return count;
    }

    private JobState withOwnWrites(String id, JobState read) {
        JobState state = read;
        for (JobEvent written : writtenNotYetRead.getOrDefault(id, List.of())) {
            state = JobState.next(state, written);
        }
        return state;
    }

    private static List<JobEvent> without(List<JobEvent> written, JobEvent read) {
        List<JobEvent> rest = new ArrayList<>(written);
        rest.removeIf(w -> w.type() == read.type() && w.at().equals(read.at()));
        return rest.isEmpty() ? null : List.copyOf(rest);
    }

    private static List<JobEvent> concat(List<JobEvent> a, List<JobEvent> b) {
        List<JobEvent> all = new ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
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
