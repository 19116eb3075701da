package dev.oneway.worker;

import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Topics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * The workers' consumer-group lag on the jobs topic: per partition, the end offset minus the group's committed
 * offset (or the log start where the group never committed), summed. This is the backlog a scaler watches:
 * jobs accepted that no worker has finished, whichever worker holds their partition.
 */
final class QueueLag {

    private static final int TIMEOUT_MS = 2000;

    private final Admin admin;
    private final Context context;
    private final OnewayConfig config;

    QueueLag(Admin admin, Context context, OnewayConfig config) {
        this.admin = admin;
        this.context = context;
        this.config = config;
    }

    /** The lag of every model this worker serves, summed: each model's group on its own jobs topic. */
    Future<Long> measure() {
        List<Future<Long>> lags = config.models().keySet().stream()
                .map(model -> measure(Topics.jobs(config, model), Topics.consumerGroup(config, model))).toList();
        return Future.all(lags).map(all -> lags.stream().mapToLong(Future::result).sum());
    }

    private Future<Long> measure(String topic, String group) {
        Future<Set<TopicPartition>> partitions = on(admin.describeTopics(List.of(topic), new DescribeTopicsOptions()
                        .timeoutMs(TIMEOUT_MS)).allTopicNames())
                .map(topics -> topics.get(topic).partitions().stream()
                        .map(p -> new TopicPartition(topic, p.partition()))
                        .collect(Collectors.toSet()));
        Future<Map<TopicPartition, OffsetAndMetadata>> committed = on(admin.listConsumerGroupOffsets(group,
                new ListConsumerGroupOffsetsOptions().timeoutMs(TIMEOUT_MS)).partitionsToOffsetAndMetadata());
        return Future.all(partitions, committed).compose(v -> {
            Map<TopicPartition, Long> from = new HashMap<>();
            committed.result().forEach((partition, offset) -> {
                if (offset != null && partitions.result().contains(partition)) {
                    from.put(partition, offset.offset());
                }
            });
            Set<TopicPartition> neverCommitted = partitions.result().stream()
                    .filter(p -> !from.containsKey(p)).collect(Collectors.toSet());
            return Future.all(offsets(partitions.result(), OffsetSpec.latest()), offsets(neverCommitted, OffsetSpec.earliest()))
                    .map(all -> {
                        Map<TopicPartition, Long> ends = all.resultAt(0);
                        from.putAll(all.resultAt(1));
                        return ends.entrySet().stream()
                                .mapToLong(end -> Math.max(0, end.getValue() - from.get(end.getKey())))
                                .sum();
                    });
        });
    }

    private Future<Map<TopicPartition, Long>> offsets(Set<TopicPartition> partitions, OffsetSpec spec) {
        if (partitions.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        Map<TopicPartition, OffsetSpec> request = partitions.stream().collect(Collectors.toMap(p -> p, p -> spec));
        return on(admin.listOffsets(request, new ListOffsetsOptions().timeoutMs(TIMEOUT_MS)).all())
                .map(infos -> infos.entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset())));
    }

    private <T> Future<T> on(KafkaFuture<T> future) {
        return Future.fromCompletionStage(future.toCompletionStage(), context);
    }
}
