package dev.oneway.common;

import org.slf4j.MDC;

/**
 * Puts a job's id and tenant on every log line written while it is open (MDC keys {@code jobId} and
 * {@code tenant}, fields of each JSON log line), so one job's story can be followed across gateway and worker:
 * <pre>{@code try (JobLogContext ignored = JobLogContext.of(job)) { LOG.info("job accepted"); } }</pre>
 * The MDC belongs to a thread: open it around log calls on the thread that makes them, never across an
 * asynchronous step. Closing restores what was there before, so contexts nest.
 */
public final class JobLogContext implements AutoCloseable {

    public static final String JOB_ID = "jobId";
    public static final String TENANT = "tenant";

    private final String previousJobId;
    private final String previousTenant;

    private JobLogContext(String jobId, String tenant) {
        this.previousJobId = MDC.get(JOB_ID);
        this.previousTenant = MDC.get(TENANT);
        put(JOB_ID, jobId);
        put(TENANT, tenant);
    }

    public static JobLogContext of(String jobId, String tenant) {
        return new JobLogContext(jobId, tenant);
    }

    public static JobLogContext of(JobRequest job) {
        return new JobLogContext(job.id(), job.tenant());
    }

    @Override
    public void close() {
        put(JOB_ID, previousJobId);
        put(TENANT, previousTenant);
    }

    private static void put(String key, String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }
}
