package dev.oneway.common;

/** Kafka record conventions shared by gateway and worker. */
public final class Topics {
    private Topics() { }

    /** Object key of a job's image: by tenant and job id (job ids are random UUIDs, so keys are not guessable). */
    public static String imageObjectKey(String tenant, String jobId) {
        return "images/" + tenant + "/" + jobId + ".png";
    }
}
