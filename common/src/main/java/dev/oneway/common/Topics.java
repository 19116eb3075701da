package dev.oneway.common;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Kafka record conventions shared by gateway and worker. */
public final class Topics {
    private Topics() { }

    /**
     * The topics Oneway writes (each model's jobs, job events, dead letters, model announcements). Whoever creates
     * them gives each ONEWAY_JOBS_PARTITIONS partitions.
     */
    public static List<String> all(OnewayConfig config) {
        List<String> topics = new ArrayList<>(jobs(config));
        topics.addAll(List.of(config.get(Setting.EVENTS_TOPIC), config.get(Setting.DEAD_LETTER_TOPIC),
                config.get(Setting.MODELS_TOPIC)));
        return topics;
    }

    /** The jobs topic of one model: {@code <ONEWAY_JOBS_TOPIC>.<model>}, so each model's workers consume only its jobs. */
    public static String jobs(OnewayConfig config, String model) {
        return config.get(Setting.JOBS_TOPIC) + "." + model;
    }

    /** The jobs topics of every model of the deployment (ONEWAY_MODELS), in its order. */
    public static List<String> jobs(OnewayConfig config) {
        return config.models().keySet().stream().map(model -> jobs(config, model)).toList();
    }

    /** The consumer group of one model's workers: {@code <ONEWAY_CONSUMER_GROUP>.<model>}, scaled on its own lag. */
    public static String consumerGroup(OnewayConfig config, String model) {
        return config.get(Setting.CONSUMER_GROUP) + "." + model;
    }

    /**
     * Settings of a topic Oneway creates: the jobs and events topics keep ONEWAY_LOG_RETENTION_HOURS of history
     * (what a starting gateway or worker replays), the dead letters stay until an operator deals with them.
     */
    public static Map<String, String> configs(OnewayConfig config, String topic) {
        if (topic.equals(config.get(Setting.DEAD_LETTER_TOPIC))) {
            return Map.of();
        }
        if (topic.equals(config.get(Setting.MODELS_TOPIC))) {
            // The latest announcement per model and worker is what counts; a clean stop leaves a tombstone.
            return Map.of("cleanup.policy", "compact", "delete.retention.ms", "3600000");
        }
        long retentionMs = config.getInt(Setting.LOG_RETENTION_HOURS) * 3_600_000L;
        return Map.of("retention.ms", String.valueOf(retentionMs), "cleanup.policy", "delete");
    }

    /** Object key of a job's image: by tenant and job id (job ids are random UUIDs, so keys are not guessable). */
    public static String imageObjectKey(String tenant, String jobId) {
        return "images/" + tenant + "/" + jobId + ".png";
    }
}
