package dev.oneway.gateway;

import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.common.JobStatus;
import dev.oneway.common.ModelAnnouncement;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import dev.oneway.common.Webhooks;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.InetAddress;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The /v1/jobs endpoints. One per HTTP event loop, used only there; the view it reads is shared and filled by
 * {@link JobViewVerticle}, and the writes go through the gateway's one {@link JobSubmitter}.
 */
final class JobRoutes {

    private static final Logger log = LoggerFactory.getLogger(JobRoutes.class);

    private record Submission(String tenant, Future<JobState> accepted) { }

    /** The job a POST answers with; {@code replayed} when an Idempotency-Key found an earlier one. */
    private record Accepted(JobState job, boolean replayed) { }

    /** How often a gateway that lost a claim looks for the winner's record. */
    private static final long RECORD_POLL_MS = 20;

    private final JobView view;
    private final JobViewVerticle viewReader;
    private final JobSubmitter submitter;
    private final ImageLinks links;
    private final GatewayMetrics metrics;
    private final SubmissionRules rules;
    private final ModelCatalog models;
    private final TenantRateLimiter rateLimiter;
    private final int maxUnfinishedPerTenant;
    private final long ackTimeoutMs;
    private final boolean webhookAllowPrivate;
    private final Map<String, String> webhookSecrets;
    /**
     * Submissions of this event loop waiting for Kafka, by job id: a repeated Idempotency-Key joins the one in flight
     * (one that reached another event loop is settled through the log, as between gateways).
     */
    private final Map<String, Submission> inFlight = new HashMap<>();

    JobRoutes(GatewayVerticle.Shared shared) {
        OnewayConfig config = shared.config();
        this.rules = shared.rules();
        this.models = shared.models();
        this.view = shared.view();
        this.viewReader = shared.viewReader();
        this.submitter = shared.submitter();
        this.links = shared.links();
        this.metrics = shared.metrics();
        this.rateLimiter = shared.rateLimiter();
        this.maxUnfinishedPerTenant = config.getInt(Setting.MAX_UNFINISHED_JOBS_PER_TENANT);
        this.ackTimeoutMs = config.getInt(Setting.KAFKA_ACK_TIMEOUT_MS);
        this.webhookAllowPrivate = config.webhookAllowPrivate();
        this.webhookSecrets = Webhooks.secrets(config);
    }

    /** Rejects other bodies before they are read. */
    void requireJson(RoutingContext ctx) {
        String contentType = ctx.request().getHeader("Content-Type");
        if (contentType == null || !isJson(contentType)) {
            throw Responses.unsupportedMediaType();
        }
        ctx.next();
    }

    void submit(RoutingContext ctx) {
        String tenant = ctx.get(ApiKeys.TENANT);
        JobSpec spec = rules.parse(ctx.body().buffer());
        String idempotencyKey = ctx.request().getHeader("Idempotency-Key");
        String modelName = spec.model() != null ? spec.model() : models.defaultModel();
        Future<Accepted> accepted = checkWebhookAddresses(ctx, spec.webhook())
                .compose(checked -> models.limitsFor(modelName, ctx.vertx().getOrCreateContext()))
                .compose(model -> idempotencyKey == null
                        ? accept(tenant, spec, model, JobIds.random()).map(job -> new Accepted(job, false))
                        : acceptOnce(ctx, tenant, spec, model, idempotencyKey));
        accepted.compose(a -> render(a.job()).onSuccess(body -> {
            ctx.response().putHeader("Location", "/v1/jobs/" + a.job().id());
            if (a.replayed()) {
                ctx.response().putHeader("Idempotent-Replayed", "true");
            }
            Responses.json(ctx, 202, body);
        })).onFailure(ctx::fail);
    }

    /**
     * Unless ONEWAY_WEBHOOK_ALLOW_PRIVATE, a webhook's host must resolve, and only to public addresses (the deliverer
     * checks again before each send, since a name may resolve elsewhere by then). Resolving blocks, so not here.
     */
    private Future<Void> checkWebhookAddresses(RoutingContext ctx, String webhook) {
        if (webhook == null || webhookAllowPrivate) {
            return Future.succeededFuture();
        }
        String host = Webhooks.host(webhook);
        return ctx.vertx().executeBlocking(() -> InetAddress.getAllByName(host), false)
                .recover(err -> Future.failedFuture(ApiError.invalid("webhook host " + host + " does not resolve")))
                .compose(addresses -> {
                    String problem = Webhooks.problemWithAddresses(host, addresses);
                    return problem == null ? Future.succeededFuture() : Future.failedFuture(ApiError.invalid(problem));
                });
    }

    /** GET /v1/webhook-secret: the caller's tenant's webhook signing secret, to verify deliveries with. */
    void webhookSecret(RoutingContext ctx) {
        String tenant = ctx.get(ApiKeys.TENANT);
        Responses.json(ctx, 200, new JsonObject().put("secret", webhookSecrets.get(tenant)));
    }

    /** GET /v1/models: the models jobs may name, with the limits and defaults their workers announce. */
    void listModels(RoutingContext ctx) {
        models.describe(ctx.vertx().getOrCreateContext())
                .onSuccess(body -> Responses.json(ctx, 200, body)).onFailure(ctx::fail);
    }

    void get(RoutingContext ctx) {
        String id = JobIds.parse(ctx.pathParam("id"));
        readable(ctx, id).compose(this::render)
                .onSuccess(body -> Responses.json(ctx, 200, body)).onFailure(ctx::fail);
    }

    void image(RoutingContext ctx) {
        String id = JobIds.parse(ctx.pathParam("id"));
        readable(ctx, id).compose(job -> {
            return switch (job.status()) {
                case SUCCEEDED -> links.linkFor(job.result());
                case QUEUED, RUNNING -> throw new ApiError(409, "not_ready",
                        "job " + job.id() + " is " + job.status().wireName() + "; its image is not ready yet");
                case FAILED, CANCELED -> throw ApiError.notFound(
                        "job " + job.id() + " is " + job.status().wireName() + "; it has no image");
            };
        }).onSuccess(link -> ctx.response()
                .setStatusCode(302)
                .putHeader("Location", link.url())
                .putHeader("Cache-Control", "no-store")
                .end()).onFailure(ctx::fail);
    }

    /**
     * Cancels a queued job. The job's events partition decides: the cancel request counts only if no job.started
     * came before it there (workers apply the same rule, store no image and write the terminal job.canceled), so
     * the answer, 200 or 409, is read back from the log after the request is written, never guessed. Canceling
     * twice is harmless.
     */
    void cancel(RoutingContext ctx) {
        String id = JobIds.parse(ctx.pathParam("id"));
        String tenant = ctx.get(ApiKeys.TENANT);
        readable(ctx, id).compose(job -> {
            if (job.status() != JobStatus.QUEUED) {
                return Future.succeededFuture(job);
            }
            return submitter.publish(JobEvent.cancelRequested(id, tenant))
                    .compose(written -> viewReader.readToEnd(ctx.vertx().getOrCreateContext())
                            .recover(err -> Future.failedFuture(ApiError.unavailable(
                            "kafka_unavailable", "the cancellation was written but its outcome could not be read back; "
                                    + "GET the job, or DELETE again, to see it", 5))))
                    .map(read -> {
                        JobState after = find(ctx, id);
                        if (after.status() == JobStatus.CANCELED) {
                            metrics.canceled(tenant);
                            try (JobLogContext ignored = JobLogContext.of(id, tenant)) {
                                log.info("job canceled");
                            }
                        }
                        return after;
                    });
        }).onSuccess(job -> {
            if (job.status() != JobStatus.CANCELED) {
                ctx.fail(new ApiError(409, "not_cancelable", "job " + job.id() + " is " + job.status().wireName()
                        + "; only queued jobs can be canceled"));
                return;
            }
            Responses.json(ctx, 200, PublicJson.job(job, null));
        }).onFailure(ctx::fail);
    }

    /**
     * One Idempotency-Key is one job, whichever gateway each retry reaches. The job id is derived from the tenant
     * and the key. A gateway first writes a claim (job.claimed, with the whole request) on the job's events
     * partition and reads the log back: the first claim of the id decides the job. Its author writes the one job
     * record; any other gateway answers with that claim's job (a replay, or 422 when the bodies differ) once the
     * record is there, and writes the record itself from the first claim only if its author never did (it crashed
     * between claim and record). A claim alone is not a job: it holds no slot and is never run.
     */
    private Future<Accepted> acceptOnce(RoutingContext ctx, String tenant, JobSpec spec, ModelAnnouncement model,
                                        String idempotencyKey) {
        rules.checkIdempotencyKey(idempotencyKey);
        String id = JobIds.idempotent(tenant, idempotencyKey);
        Optional<JobState> known = view.find(id, tenant);
        if (known.isPresent()) {
            return Future.succeededFuture(replay(known.get(), spec));
        }
        Submission pending = inFlight.get(id);
        if (pending != null) {
            return pending.accepted().map(job -> replay(job, spec));
        }
        JobRequest claim = admit(tenant, spec, model, id);
        Promise<JobState> decided = Promise.promise();
        inFlight.put(id, new Submission(tenant, decided.future()));
        view.submitting(tenant, 1);
        Future<Accepted> answer = submitter.publish(JobEvent.claimed(claim))
                .compose(claimed -> readBack(ctx))
                .compose(read -> {
                    Optional<JobState> existing = view.find(id, tenant);
                    if (existing.isPresent()) {
                        return Future.succeededFuture(replay(existing.get(), spec));
                    }
                    JobRequest first = view.firstClaim(id).orElseThrow(() -> new IllegalStateException(
                            "the claim of job " + id + " was acknowledged but is not on the log read back"));
                    if (first.equals(claim)) {
                        return write(claim).map(job -> new Accepted(job, false));
                    }
                    replay(JobState.withRecord(null, first), spec); // 422 now when the bodies differ
                    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ackTimeoutMs);
                    return awaitRecord(ctx, id, tenant, deadline)
                            .compose(found -> found.isPresent()
                                    ? Future.succeededFuture(replay(found.get(), spec))
                                    : write(first).map(job -> new Accepted(job, true)));
                });
        answer.onComplete(ar -> {
            inFlight.remove(id);
            view.submitting(tenant, -1);
            if (ar.succeeded()) {
                decided.complete(ar.result().job());
            } else {
                decided.fail(ar.cause());
            }
        });
        return answer;
    }

    /** Waits for another gateway's record of a claimed job, reading the log to its end each time. */
    private Future<Optional<JobState>> awaitRecord(RoutingContext ctx, String id, String tenant, long deadlineNanos) {
        return readBack(ctx).compose(read -> {
            Optional<JobState> found = view.find(id, tenant);
            if (found.isPresent() || System.nanoTime() > deadlineNanos) {
                return Future.succeededFuture(found);
            }
            return ctx.vertx().timer(RECORD_POLL_MS).compose(t -> awaitRecord(ctx, id, tenant, deadlineNanos));
        });
    }

    private static Accepted replay(JobState job, JobSpec spec) {
        if (job.request() != null && !spec.sameAs(job.request())) {
            throw new ApiError(422, "idempotency_key_reused",
                    "this Idempotency-Key was used for job " + job.id() + " with a different request");
        }
        return new Accepted(job, true);
    }

    /** A job without an Idempotency-Key: a random id, one write. */
    private Future<JobState> accept(String tenant, JobSpec spec, ModelAnnouncement model, String id) {
        JobRequest job = admit(tenant, spec, model, id);
        Future<JobState> accepted = write(job);
        inFlight.put(id, new Submission(tenant, accepted));
        view.submitting(tenant, 1);
        accepted.onComplete(ar -> {
            inFlight.remove(id);
            view.submitting(tenant, -1);
        });
        return accepted;
    }

    /** The job with every default of its model resolved and checked against its limits, then the tenant's rate and quota. */
    private JobRequest admit(String tenant, JobSpec spec, ModelAnnouncement model, String id) {
        JobRequest job = rules.resolve(spec, model, id, tenant, Instant.now());
        long retryAfter = rateLimiter.acquire(tenant);
        if (retryAfter > 0) {
            throw ApiError.tooManyRequests("rate_limited", "too many submissions; retry in " + retryAfter + " s",
                    retryAfter);
        }
        if (view.unfinished(tenant) >= maxUnfinishedPerTenant) {
            throw ApiError.tooManyRequests("too_many_unfinished_jobs", "at most " + maxUnfinishedPerTenant
                    + " queued or running jobs per tenant; wait for some to finish", 5);
        }
        return job;
    }

    /** Writes the job record; the job is accepted exactly when Kafka acknowledges it. */
    private Future<JobState> write(JobRequest job) {
        return submitter.submit(job).map(v -> {
            view.acceptedHere(job);
            metrics.accepted(job.tenant());
            if (log.isDebugEnabled()) { // not INFO: one line per accepted job cost a fair share of a submission
                try (JobLogContext ignored = JobLogContext.of(job)) {
                    log.debug("job accepted: model {}, {}x{}, {} steps, sampler {}, seed {}", job.model(), job.width(),
                            job.height(), job.steps(), job.sampler(), job.seed());
                }
            }
            // The answer describes the job as accepted (queued), whatever a fast worker has done since.
            return JobState.withRecord(null, job);
        });
    }

    /** The read barrier where a decision depends on it: no answer at all is better than a guess. */
    private Future<Void> readBack(RoutingContext ctx) {
        return viewReader.readToEnd(ctx.vertx().getOrCreateContext()).recover(err -> Future.failedFuture(kafkaUnavailable()));
    }

    /**
     * The job for a read, after the read barrier. While Kafka is away the view is used as it is (a stale answer beats
     * none), with the jobs this gateway accepted but has not read back yet; an id still unknown then is a 503, not a
     * 404: its record may be on the log, and a 404 after a 202 would misreport an accepted job.
     */
    private Future<JobState> readable(RoutingContext ctx, String id) {
        String tenant = ctx.get(ApiKeys.TENANT);
        return viewReader.readToEnd(ctx.vertx().getOrCreateContext()).transform(read -> {
            Optional<JobState> job = view.findIncludingAcceptedHere(id, tenant);
            if (job.isPresent()) {
                return Future.succeededFuture(job.get());
            }
            return Future.failedFuture(read.succeeded() ? ApiError.noSuchJob(id) : ApiError.unavailable(
                    "kafka_unavailable", "the job log cannot be read now, so whether job " + id + " exists is not known; "
                            + "retry shortly", 5));
        });
    }

    private static ApiError kafkaUnavailable() {
        return ApiError.unavailable("kafka_unavailable", "the job queue could not be read back in time; nothing is "
                + "lost: retry with the same Idempotency-Key to learn the job's fate", 5);
    }

    private JobState find(RoutingContext ctx, String id) {
        return view.find(id, ctx.get(ApiKeys.TENANT)).orElseThrow(() -> ApiError.noSuchJob(id));
    }

    /** The job as clients see it, with a fresh image URL once it has succeeded. */
    private Future<JsonObject> render(JobState job) {
        if (job.result() == null) {
            return Future.succeededFuture(PublicJson.job(job, null));
        }
        return links.linkFor(job.result()).map(link -> PublicJson.job(job, link));
    }

    private static boolean isJson(String contentType) {
        String[] parts = contentType.split(";", -1); // -1: ";;;" is four empty parts, not none
        if (!parts[0].trim().toLowerCase(Locale.ROOT).equals("application/json")) {
            return false;
        }
        for (int i = 1; i < parts.length; i++) {
            String[] param = parts[i].trim().split("=", 2);
            if (param[0].trim().equalsIgnoreCase("charset")
                    && (param.length < 2 || !param[1].trim().replace("\"", "").equalsIgnoreCase("utf-8"))) {
                return false;
            }
        }
        return true;
    }
}
