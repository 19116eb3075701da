package dev.oneway.common;

import java.util.List;

/** Kafka record conventions shared by gateway and worker. */
public final class Topics {
    private Topics() { }

    /**
     * The topics Oneway writes (jobs, job events, dead letters). Whoever creates them gives each
     * ONEWAY_JOBS_PARTITIONS partitions.
     */
    public static List<String> all(OnewayConfig config) {
        return List.of(config.get(Setting.JOBS_TOPIC), config.get(Setting.EVENTS_TOPIC), config.get(Setting.DEAD_LETTER_TOPIC));
    }

    /** Object key of a job's image: by tenant and job id (job ids are random UUIDs, so keys are not guessable). */
    public static String imageObjectKey(String tenant, String jobId) {
        return "images/" + tenant + "/" + jobId + ".png";
    }
}
