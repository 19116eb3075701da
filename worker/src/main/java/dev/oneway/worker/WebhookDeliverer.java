package dev.oneway.worker;

import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.KafkaSettings;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Timestamps;
import dev.oneway.common.Webhooks;
import dev.oneway.worker.OffsetTracker.Delivery;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.URI;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers each finished job's terminal event to the job's webhook, as Standard Webhooks describes: a POST with
 * {@code webhook-id} (the same on every try and after any crash), {@code webhook-timestamp} and
 * {@code webhook-signature} (HMAC-SHA256 under the tenant's secret).
 *
 * <p>The contract: <b>at least once, the outcome recorded on the job, offsets never pass an undelivered job.</b>
 * The deliverer is a consumer group of its own on the events topic (one member per worker JVM). A terminal event
 * that names a webhook is sent, retried with exponential backoff (1 s doubling to 5 min, with jitter) for
 * ONEWAY_WEBHOOK_RETRY_SECONDS, given up at once on any other answer than 2xx, 408, 429 and 5xx (redirects are not
 * followed); then a job.webhook event records the
 * outcome (delivered or failed, attempts, last status), and only then is the event's offset committable. A crash
 * before that leaves the offset uncommitted: the group's next member sends again, under the same webhook-id, so
 * receivers can drop the duplicate.
 *
 * <p>Unless ONEWAY_WEBHOOK_ALLOW_PRIVATE, the host is resolved before each try and every address must be public;
 * the request then goes to the address that was checked, so a name that resolves elsewhere a moment later (DNS
 * rebinding) cannot steer it inside.
 */
final class WebhookDeliverer extends VerticleBase implements JobFeed.Owner {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookDeliverer.class);
    private static final int MAX_IN_FLIGHT = 256;
    private static final long FIRST_DELAY_MS = 1_000;
    private static final long MAX_DELAY_MS = 300_000;
    private static final int REQUEST_TIMEOUT_MS = 15_000;

    /** A try that got an HTTP answer other than 2xx. */
    private static final class Refused extends RuntimeException {
        final int status;

        Refused(int status) {
            super("the receiver answered " + status);
            this.status = status;
        }
    }

    private final OnewayConfig config;
    private final String clientId;
    private final OffsetTracker offsets = new OffsetTracker();
    private Map<String, String> secrets;
    private boolean allowPrivate;
    private long retryMs;
    private JobFeed feed;
    private JobEventPublisher events;
    private HttpClient http;
    private RetryPolicy sends;
    private RetryPolicy kafka;
    private int inFlight;
    private boolean stopping;

    WebhookDeliverer(OnewayConfig config, String clientId) {
        this.config = config;
        this.clientId = clientId;
    }

    @Override
    public Future<?> start() {
        secrets = Webhooks.secrets(config);
        allowPrivate = config.webhookAllowPrivate();
        retryMs = TimeUnit.SECONDS.toMillis(config.getInt(Setting.WEBHOOK_RETRY_SECONDS));
        events = new JobEventPublisher(vertx, config, clientId + "-events");
        http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(REQUEST_TIMEOUT_MS)
                .setKeepAlive(false));
        sends = new RetryPolicy(vertx, 0, FIRST_DELAY_MS, MAX_DELAY_MS);
        kafka = new RetryPolicy(vertx, 0, 200, 10_000);
        // Its own group (not a model's: those are <prefix>.<model>), so every terminal event is seen once per deployment.
        Map<String, Object> consumer = KafkaSettings.groupConsumer(config, "webhooks", clientId);
        consumer.put("group.id", groupOf(config));
        consumer.put("max.poll.records", "100");
        feed = new JobFeed(consumer, config.get(Setting.EVENTS_TOPIC), context, this, "oneway-webhooks-" + clientId);
        feed.start();
        LOG.info("Webhook deliverer {} following {} in group {}", clientId, config.get(Setting.EVENTS_TOPIC),
                groupOf(config));
        return Future.succeededFuture();
    }

    /** The deliverers' consumer group: the workers' group name plus "-webhooks". */
    static String groupOf(OnewayConfig config) {
        return config.get(Setting.CONSUMER_GROUP) + "-webhooks";
    }

    @Override
    public Future<?> stop() {
        stopping = true; // tries in flight end at their next failure; what is unfinished stays uncommitted
        return feed.close(offsets::committable)
                .transform(ar -> events.close().recover(e -> Future.succeededFuture()))
                .transform(ar -> http.close());
    }

    @Override
    public void assigned(Collection<TopicPartition> partitions) {
        offsets.assigned(partitions);
    }

    @Override
    public Future<Map<TopicPartition, Long>> revoked(Collection<TopicPartition> partitions) {
        offsets.leaving(partitions);
        return Future.succeededFuture(offsets.revoke(partitions));
    }

    @Override
    public void fetched(ConsumerRecords<String, String> records) {
        if (stopping) {
            return;
        }
        for (ConsumerRecord<String, String> record : records) {
            Delivery delivery = offsets.consumed(new TopicPartition(record.topic(), record.partition()), record.offset());
            JobEvent event;
            try {
                event = JobEvent.fromJson(new JsonObject(record.value()));
            } catch (RuntimeException e) {
                offsets.finished(delivery); // not ours to judge: the gateways and workers read the same record
                continue;
            }
            if (event.status() == null || !event.status().terminal() || event.webhook() == null
                    || event.webhook().getString("url") == null) {
                offsets.finished(delivery);
            } else if (event.at().plusMillis(retryMs).isBefore(Instant.now())) {
                log(event, "Webhook of job {} not sent: its terminal event is older than the retry period", event.id());
                offsets.finished(delivery);
            } else {
                inFlight++;
                deliver(delivery, event).onComplete(ar -> {
                    inFlight--;
                    feed.pause(inFlight >= MAX_IN_FLIGHT);
                    feed.commitFinished(offsets);
                });
            }
        }
        feed.pause(inFlight >= MAX_IN_FLIGHT);
        feed.commitFinished(offsets);
    }

    /** Sends until delivered or given up, records the outcome on the job, then marks the offset finished. */
    private Future<Void> deliver(Delivery delivery, JobEvent event) {
        String url = event.webhook().getString("url");
        String webhookId = "msg_" + event.id();
        String body = payload(event).encode();
        String secret = secrets.get(event.tenant());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retryMs);
        AtomicInteger attempts = new AtomicInteger();
        Integer[] lastStatus = {null};
        Future<Integer> sent = secret == null
                ? Future.failedFuture(new RetryPolicy.NonRetriable("tenant " + event.tenant()
                        + " has no webhook secret (no API key and no ONEWAY_WEBHOOK_SECRETS entry)", null))
                : sends.run("webhook of job " + event.id(), () -> {
                    attempts.incrementAndGet();
                    return sendOnce(url, webhookId, secret, body).onFailure(e -> {
                        if (e instanceof Refused r) {
                            lastStatus[0] = r.status;
                        } else if (e instanceof RetryPolicy.NonRetriable n && n.getCause() instanceof Refused r) {
                            lastStatus[0] = r.status;
                        }
                    });
                }, () -> stopping || System.nanoTime() > deadline);
        return sent.transform(ar -> {
            if (stopping && ar.failed()) {
                log(event, "Webhook of job {} left undelivered at shutdown; the next deliverer sends it again", event.id());
                return Future.succeededFuture();
            }
            JsonObject outcome = new JsonObject().put("url", url).put("id", webhookId)
                    .put("status", ar.succeeded() ? "delivered" : "failed").put("attempts", attempts.get());
            Integer status = ar.succeeded() ? ar.result() : lastStatus[0];
            if (status != null) {
                outcome.put("lastStatus", status);
            }
            if (ar.failed()) {
                outcome.put("error", message(ar.cause()));
            }
            log(event, "Webhook of job {} {} after {} attempt(s){}", event.id(), outcome.getString("status"),
                    attempts.get(), ar.failed() ? ": " + outcome.getString("error") : "");
            if (!offsets.owns(delivery)) {
                return Future.succeededFuture(); // the partition moved on: its next owner delivers and records
            }
            JobEvent recorded = JobEvent.webhookOutcome(event.id(), event.tenant(), outcome);
            return kafka.run("job.webhook of job " + event.id(), () -> events.publish(recorded), () -> stopping)
                    .onSuccess(v -> offsets.finished(delivery))
                    .recover(e -> Future.succeededFuture());
        });
    }

    /** One POST; its HTTP status when 2xx, else a {@link Refused}, retriable only for 408, 429 and 5xx. */
    private Future<Integer> sendOnce(String url, String webhookId, String secret, String body) {
        String host = Webhooks.host(url);
        int port = Webhooks.port(url);
        URI uri = URI.create(url);
        String path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        return vertx.executeBlocking(() -> InetAddress.getAllByName(host), false).compose(addresses -> {
            if (!allowPrivate) {
                String problem = Webhooks.problemWithAddresses(host, addresses);
                if (problem != null) {
                    return Future.failedFuture(new RetryPolicy.NonRetriable(problem, null));
                }
            }
            long timestamp = Instant.now().getEpochSecond();
            RequestOptions request = new RequestOptions()
                    .setMethod(HttpMethod.POST)
                    .setServer(SocketAddress.inetSocketAddress(port, addresses[0].getHostAddress()))
                    .setHost(host)
                    .setPort(port)
                    .setSsl(uri.getScheme().equalsIgnoreCase("https"))
                    .setURI(path)
                    .setTimeout(REQUEST_TIMEOUT_MS)
                    .putHeader("content-type", "application/json")
                    .putHeader("user-agent", "oneway-webhooks")
                    .putHeader("webhook-id", webhookId)
                    .putHeader("webhook-timestamp", String.valueOf(timestamp))
                    .putHeader("webhook-signature", Webhooks.signature(secret, webhookId, timestamp, body));
            return http.request(request)
                    .compose(req -> req.send(body))
                    .compose(response -> response.body().map(ignored -> response.statusCode()))
                    .compose(status -> {
                        if (status >= 200 && status < 300) {
                            return Future.succeededFuture(status);
                        }
                        Refused refused = new Refused(status);
                        boolean worthRetrying = status == 408 || status == 429 || status >= 500; // not 3xx: no redirects
                        return Future.failedFuture(worthRetrying ? refused
                                : new RetryPolicy.NonRetriable(refused.getMessage(), refused));
                    });
        });
    }

    /** Standard Webhooks' payload shape: type, timestamp, data (the terminal event as clients see it). */
    static JsonObject payload(JobEvent event) {
        JsonObject data = event.toJson();
        data.remove("tenant");
        data.remove("webhook");
        if (event.result() != null) {
            data.put("result", new JsonObject().put("contentType", event.result().contentType())
                    .put("width", event.result().width()).put("height", event.result().height())
                    .put("bytes", event.result().bytes()));
        }
        return new JsonObject().put("type", event.type().wireName()).put("timestamp", Timestamps.format(event.at()))
                .put("data", data);
    }


    private static String message(Throwable e) {
        Throwable cause = e instanceof RetryPolicy.NonRetriable && e.getCause() != null ? e.getCause() : e;
        String text = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
        return text.replaceFirst("^webhook of job \\S+ cannot succeed: ", "");
    }

    private static void log(JobEvent event, String format, Object... args) {
        try (JobLogContext ignored = JobLogContext.of(event.id(), event.tenant())) {
            LOG.info(format, args);
        }
    }
}
