package dev.oneway.gateway;

import dev.oneway.common.JobEvent;
import dev.oneway.common.JobLogContext;
import dev.oneway.common.JobRequest;
import dev.oneway.common.JobStatus;
import dev.oneway.common.OnewayConfig;
import dev.oneway.common.Setting;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The /v1/jobs endpoints. Runs on the gateway's event loop; the view it reads is filled by
 * {@link JobViewVerticle} and the writes go through {@link JobSubmitter}.
 */
final class JobRoutes {

    private static final Logger log = LoggerFactory.getLogger(JobRoutes.class);

    private record Submission(String tenant, Future<JobState> accepted) { }

    /** The job a POST answers with; {@code replayed} when an Idempotency-Key found an earlier one. */
    private record Accepted(JobState job, boolean replayed) { }

    private final JobView view;
    private final JobSubmitter submitter;
    private final ImageLinks links;
    private final GatewayMetrics metrics;
    private final SubmissionRules rules;
    private final TenantRateLimiter rateLimiter;
    private final int maxUnfinishedPerTenant;
    /** Submissions waiting for Kafka, by job id: a repeated Idempotency-Key joins the one in flight. */
    private final Map<String, Submission> inFlight = new HashMap<>();

    JobRoutes(OnewayConfig config, SubmissionRules rules, JobView view, JobSubmitter submitter, ImageLinks links,
              GatewayMetrics metrics) {
        this.rules = rules;
        this.view = view;
        this.submitter = submitter;
        this.links = links;
        this.metrics = metrics;
        this.rateLimiter = new TenantRateLimiter(config.getInt(Setting.JOBS_PER_MINUTE_PER_TENANT));
        this.maxUnfinishedPerTenant = config.getInt(Setting.MAX_UNFINISHED_JOBS_PER_TENANT);
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
        Future<Accepted> accepted = idempotencyKey == null
                ? accept(tenant, spec, JobIds.random()).map(job -> new Accepted(job, false))
                : acceptOnce(tenant, spec, idempotencyKey);
        accepted.compose(a -> render(a.job()).onSuccess(body -> {
            ctx.response().putHeader("Location", "/v1/jobs/" + a.job().id());
            if (a.replayed()) {
                ctx.response().putHeader("Idempotent-Replayed", "true");
            }
            Responses.json(ctx, 202, body);
        })).onFailure(ctx::fail);
    }

    void get(RoutingContext ctx) {
        render(find(ctx)).onSuccess(body -> Responses.json(ctx, 200, body)).onFailure(ctx::fail);
    }

    void image(RoutingContext ctx) {
        JobState job = find(ctx);
        switch (job.status()) {
            case SUCCEEDED -> links.linkFor(job.result()).onSuccess(link -> ctx.response()
                    .setStatusCode(302)
                    .putHeader("Location", link.url())
                    .putHeader("Cache-Control", "no-store")
                    .end()).onFailure(ctx::fail);
            case QUEUED, RUNNING -> throw new ApiError(409, "not_ready",
                    "job " + job.id() + " is " + job.status().wireName() + "; its image is not ready yet");
            case FAILED, CANCELED -> throw ApiError.notFound(
                    "job " + job.id() + " is " + job.status().wireName() + "; it has no image");
        }
    }

    /** Cancels a queued job; a job a worker has started runs to its end. Canceling twice is harmless. */
    void cancel(RoutingContext ctx) {
        JobState job = find(ctx);
        if (job.status() == JobStatus.CANCELED) {
            Responses.json(ctx, 200, PublicJson.job(job, null));
            return;
        }
        if (job.status() != JobStatus.QUEUED) {
            throw new ApiError(409, "not_cancelable", "job " + job.id() + " is " + job.status().wireName()
                    + "; only queued jobs can be canceled");
        }
        JobEvent canceled = JobEvent.canceled(job.id(), job.tenant());
        submitter.publish(canceled)
                .map(v -> view.wrote(canceled))
                .onSuccess(state -> {
                    metrics.canceled(job.tenant());
                    try (JobLogContext ignored = JobLogContext.of(job.id(), job.tenant())) {
                        log.info("job canceled");
                    }
                    Responses.json(ctx, 200, PublicJson.job(state, null));
                })
                .onFailure(ctx::fail);
    }

    private Future<Accepted> acceptOnce(String tenant, JobSpec spec, String idempotencyKey) {
        rules.checkIdempotencyKey(idempotencyKey);
        for (int attempt = 0; ; attempt++) {
            String id = JobIds.idempotent(tenant, idempotencyKey, attempt);
            Submission pending = inFlight.get(id);
            if (pending != null) {
                return pending.accepted().map(job -> replay(job, spec));
            }
            Optional<JobState> existing = view.find(id, tenant);
            if (existing.isEmpty()) {
                return accept(tenant, spec, id).map(job -> new Accepted(job, false));
            }
            if (!existing.get().notAccepted()) {
                return Future.succeededFuture(replay(existing.get(), spec));
            }
        }
    }

    private static Accepted replay(JobState job, JobSpec spec) {
        if (job.request() != null && !spec.sameAs(job.request())) {
            throw new ApiError(422, "idempotency_key_reused",
                    "this Idempotency-Key was used for job " + job.id() + " with a different request");
        }
        return new Accepted(job, true);
    }

    private Future<JobState> accept(String tenant, JobSpec spec, String id) {
        long retryAfter = rateLimiter.acquire(tenant);
        if (retryAfter > 0) {
            throw ApiError.tooManyRequests("rate_limited", "too many submissions; retry in " + retryAfter + " s",
                    retryAfter);
        }
        long submitting = inFlight.values().stream().filter(s -> s.tenant().equals(tenant)).count();
        if (view.unfinished(tenant) + submitting >= maxUnfinishedPerTenant) {
            throw ApiError.tooManyRequests("too_many_unfinished_jobs", "at most " + maxUnfinishedPerTenant
                    + " queued or running jobs per tenant; wait for some to finish", 5);
        }
        JobRequest job = rules.resolve(spec, id, tenant, Instant.now());
        Future<JobState> accepted = submitter.submit(job).map(v -> {
            metrics.accepted(tenant);
            try (JobLogContext ignored = JobLogContext.of(job)) {
                log.info("job accepted: {}x{}, {} steps, sampler {}, seed {}", job.width(), job.height(), job.steps(),
                        job.sampler(), job.seed());
            }
            // The answer describes the job as accepted (queued), even if a worker's job.started has been read meanwhile.
            JobEvent queued = JobEvent.queued(job);
            view.wrote(queued);
            return JobState.next(null, queued);
        });
        inFlight.put(id, new Submission(tenant, accepted));
        accepted.onComplete(ar -> inFlight.remove(id));
        return accepted;
    }

    private JobState find(RoutingContext ctx) {
        String id = JobIds.parse(ctx.pathParam("id"));
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
