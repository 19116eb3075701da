package dev.oneway.common;

import java.util.List;
import java.util.Map;

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

    /**
     * Settings of a topic Oneway creates: the jobs and events topics keep ONEWAY_LOG_RETENTION_HOURS of history
     * (what a starting gateway or worker replays), the dead letters stay until an operator deals with them.
     */
    public static Map<String, String> configs(OnewayConfig config, String topic) {
        if (topic.equals(config.get(Setting.DEAD_LETTER_TOPIC))) {
            return Map.of();
        }
        long retentionMs = config.getInt(Setting.LOG_RETENTION_HOURS) * 3_600_000L;
        return Map.of("retention.ms", String.valueOf(retentionMs), "cleanup.policy", "delete");
    }

    /** Object key of a job's image: by tenant and job id (job ids are random UUIDs, so keys are not guessable). */
    public static String imageObjectKey(String tenant, String jobId) {
        return "images/" + tenant + "/" + jobId + ".png";
    }
}
