package dev.oneway.standalone.faults;

import dev.oneway.common.Setting;
import dev.oneway.standalone.faults.UserHttp.Answer;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The fault campaign: a {@link Deployment}, users that submit and follow jobs through both gateways, one fault at a
 * time, and after each scenario the checks of every accepted job against GET on both gateways, the WebSockets, the
 * events and jobs topics and S3.
 */
final class Campaign implements AutoCloseable {

    /** How big and how patient a campaign is. */
    record Plan(String name, int repetitions, int jobsPerFault, long spreadMs, long burstMs, long quietMs, long pollMs,
                long postPatienceMs, long drainLimitMs, int sameKeyPairs, int changedBodies, int cancels,
                int readsAfterWrite, Map<Setting, String> workerSettings) {

        /** The CI variant: one repetition, a couple of dozen jobs per fault. */
        static Plan ci() {
            // A killed worker's partitions move once its session expires: 10 s here, so the short run stays short.
            // The quiet period (35 s) outlasts the worker's longest wait between upload tries (30 s,
            // ONEWAY_S3_UPLOAD_BACKOFF_MS doubling up to its cap): with 20 s, jobs still waiting for their next
            // try after the S3 outage were counted as never settling (a CI run on 2026-12-03).
            return new Plan("ci", 1, 24, 6_000, 1_000, 35_000, 300, 60_000, 120_000, 10, 5, 12, 30,
                    Map.of(Setting.KAFKA_SESSION_TIMEOUT_MS, "10000"));
        }

        /** The full campaign: three repetitions, 150 jobs per fault, the product's own session timeout. */
        static Plan full() {
            return new Plan("full", 3, 150, 20_000, 5_000, 60_000, 500, 120_000, 300_000, 30, 10, 38, 100, Map.of());
        }
    }

    static final String WORKER_KILL = "Worker kill -9, restarted after 10 s with the same identity";
    static final String BROKER_KILL = "Kafka broker kill -9, restarted after 15 s";
    static final String GATEWAY_KILL = "Gateway A kill -9 during submissions (clients retry on B)";
    static final String S3_DOWN = "S3 server down 20 s";
    static final String WORKER_SIGTERM = "Worker SIGTERM mid-batch";
    static final String WORKER_JOINS = "A third worker joins mid-burst, then leaves (SIGTERM)";
    static final String SAME_KEY = "Same Idempotency-Key POSTed to A and B within milliseconds";
    static final String CHANGED_BODY = "Changed body on B right after A's 202 (must be 422)";
    static final String CANCEL_ON_B = "DELETE on B right after or while jobs start";
    static final String READ_ON_B = "GET on B right after A's 202, then alternating GETs";

    /** Over how long the jobs submitted after a fault arrive. */
    private static final long TAIL_MS = 3_000;
    /** After a worker restart, long enough that the jobs outlast the group's rebalance and reach the restarted worker. */
    private static final long RESTART_TAIL_MS = 10_000;
    private static final Pattern SUCCEEDED_LINE = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} succeeded");

    private final Plan plan;
    private final Deployment deployment;
    private final UserHttp http;
    private final ExecutorService users = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "faults-user");
        t.setDaemon(true);
        return t;
    });
    private final Set<String> everyAnsweredId = ConcurrentHashMap.newKeySet();
    private final List<String> apiKeys = List.copyOf(Deployment.TENANTS.keySet());
    private EventSockets sockets;
    private MinioClient s3;
    private final Consumer<String> progress;

    Campaign(Plan plan, Path dir, Consumer<String> progress) {
        this.plan = plan;
        this.deployment = new Deployment(dir, plan.workerSettings());
        this.http = new UserHttp(deployment, Duration.ofSeconds(12));
        this.progress = progress;
    }

    Deployment deployment() {
        return deployment;
    }

    /** Runs every scenario {@code plan.repetitions()} times; one outcome per scenario and repetition. */
    List<Outcome> run() {
        long t0 = System.currentTimeMillis();
        deployment.start();
        progress.accept("deployment ready in " + (System.currentTimeMillis() - t0) / 1000 + " s; logs in " + deployment.logs());
        sockets = new EventSockets(deployment, http.client());
        s3 = MinioClient.builder().endpoint(deployment.s3Endpoint())
                .credentials(Deployment.S3_ACCESS, Deployment.S3_SECRET).build();
        warmUp();
        List<Outcome> outcomes = new ArrayList<>();
        for (int rep = 1; rep <= plan.repetitions(); rep++) {
            outcomes.add(step(this::sameKeyOnBothGateways));
            outcomes.add(step(this::changedBodyOnB));
            outcomes.add(step(this::cancelOnB));
            outcomes.add(step(this::readOnBAfterAccept));
            outcomes.add(step(this::workerKill));
            outcomes.add(step(this::brokerKill));
            outcomes.add(step(this::gatewayKill));
            outcomes.add(step(this::s3Down));
            outcomes.add(step(this::workerSigterm));
            outcomes.add(step(this::workerJoinsAndLeaves));
        }
        return outcomes;
    }

    private Outcome step(java.util.function.Supplier<Outcome> scenario) {
        deployment.awaitAllReady();
        long t0 = System.currentTimeMillis();
        Outcome outcome = scenario.get();
        progress.accept(String.format("%-62s %5.0f s  %s", outcome.scenario, (System.currentTimeMillis() - t0) / 1000.0,
                outcome.failures().isEmpty() ? "ok" : "FOUND " + outcome.failures()));
        return outcome;
    }

    private void warmUp() {
        List<TrackedJob> jobs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            jobs.add(job("warm-up", i));
        }
        List<java.util.concurrent.Future<?>> running = new ArrayList<>();
        for (TrackedJob j : jobs) {
            running.add(users.submit(() -> {
                j.submit(http, j.firstGateway, plan.postPatienceMs());
                j.postDone = true;
                if (j.accepted()) {
                    j.follow(http, plan.pollMs(), () -> false);
                }
            }));
        }
        awaitAll(running, Duration.ofMinutes(3));
    }

    // ---------------------------------------------------------------- faults

    private Outcome workerKill() {
        return faultScenario(WORKER_KILL, plan.spreadMs(), RESTART_TAIL_MS, false, clock -> {
            clock.awaitStarted(0.3);
            clock.faultAt = System.currentTimeMillis();
            deployment.worker(0).kill();
            Sleep.ms(10_000);
            clock.restartedAt = System.currentTimeMillis();
            deployment.startWorker(0);
            clock.watchForFirstSuccess(deployment.worker(0));
            deployment.awaitWorkerReady(0);
            clock.restoredAt = System.currentTimeMillis();
        });
    }

    private Outcome brokerKill() {
        return faultScenario(BROKER_KILL, plan.spreadMs(), TAIL_MS, false, clock -> {
            clock.awaitStarted(0.3);
            clock.faultAt = System.currentTimeMillis();
            deployment.killBroker();
            Sleep.ms(15_000);
            deployment.startBroker();
            clock.restoredAt = System.currentTimeMillis();
        });
    }

    private Outcome gatewayKill() {
        return faultScenario(GATEWAY_KILL, plan.burstMs(), TAIL_MS, true, clock -> {
            clock.awaitStarted(0.5);
            clock.faultAt = System.currentTimeMillis();
            deployment.killGateway(0);
            Sleep.ms(5_000);
            deployment.startGateway(0);
            deployment.awaitGatewayReady(0);
            clock.restoredAt = System.currentTimeMillis();
        });
    }

    private Outcome s3Down() {
        return faultScenario(S3_DOWN, plan.spreadMs(), TAIL_MS, false, clock -> {
            clock.awaitStarted(0.2);
            clock.faultAt = System.currentTimeMillis();
            deployment.killS3();
            Sleep.ms(20_000);
            deployment.startS3();
            clock.restoredAt = System.currentTimeMillis();
        });
    }

    private Outcome workerSigterm() {
        Outcome[] extra = new Outcome[1];
        Outcome outcome = faultScenario(WORKER_SIGTERM, plan.spreadMs(), TAIL_MS, false, clock -> {
            clock.awaitStarted(0.4);
            ChildProcess worker = deployment.worker(1);
            clock.faultAt = System.currentTimeMillis();
            worker.terminate();
            Integer exit = worker.awaitExit(Duration.ofSeconds(60));
            clock.note("exit after SIGTERM", exit == null ? "still running after 60 s (killed)" : "code " + exit + " after "
                    + String.format(java.util.Locale.ROOT, "%.1f s", (System.currentTimeMillis() - clock.faultAt) / 1000.0));
            if (exit == null) {
                worker.kill();
            }
            String log = worker.output();
            clock.note("last log lines complete", log.contains("Worker stopped") ? "yes" : "no ('Worker stopped' missing)");
            deployment.startWorker(1);
            deployment.awaitWorkerReady(1);
            clock.restoredAt = System.currentTimeMillis();
        });
        return outcome;
    }

    /**
     * Scaling out and back in mid-burst: the group rebalances twice while jobs run, and partitions move with jobs
     * running on them (whose runs the old owner gives back, writing job.released) in both directions.
     */
    private Outcome workerJoinsAndLeaves() {
        // Submissions spread three times as long as for the other faults: a worker takes seconds to start and join,
        // and the jobs must still be arriving when it leaves again.
        return faultScenario(WORKER_JOINS, plan.spreadMs() * 3, TAIL_MS, false, clock -> {
            clock.awaitStarted(0.1);
            clock.faultAt = System.currentTimeMillis();
            deployment.startWorker(2);
            deployment.awaitWorkerReady(2);
            ChildProcess third = deployment.worker(2);
            long deadline = System.currentTimeMillis() + 30_000;
            while (!third.output().contains("now consumes [") && System.currentTimeMillis() < deadline) {
                Sleep.ms(100);
            }
            Sleep.ms(3_000); // running jobs of its own
            third.terminate();
            Integer exit = third.awaitExit(Duration.ofSeconds(60));
            if (exit == null) {
                third.kill();
            }
            String log = third.output();
            clock.note("third worker", (log.contains("now consumes [") ? "got partitions" : "got NO partitions")
                    + ", " + countOf(log, l -> SUCCEEDED_LINE.matcher(l).find()) + " jobs succeeded there, exit "
                    + (exit == null ? "none after 60 s (killed)" : "code " + exit));
            clock.note("runs released as partitions moved (all workers)", String.valueOf(
                    countOf(deployment.worker(0).output() + deployment.worker(1).output() + log,
                            l -> l.contains("this run is not counted"))));
            clock.restoredAt = System.currentTimeMillis();
        });
    }

    private static long countOf(String log, java.util.function.Predicate<String> line) {
        return log.lines().filter(line).count();
    }

    /** What a fault scenario has done and when; the fault thread sets it, the checks read it. */
    final class Clock {
        final AtomicInteger started = new AtomicInteger();
        final int total;
        volatile long scenarioStart = System.currentTimeMillis();
        volatile long faultAt;
        volatile long restoredAt;
        volatile long restartedAt;
        volatile long restartedFirstSuccessAt;
        final Map<String, String> notes = new java.util.LinkedHashMap<>();
        private volatile Thread watcher;

        Clock(int total) {
            this.total = total;
        }

        void awaitStarted(double fraction) {
            while (started.get() < Math.ceil(total * fraction)) {
                Sleep.ms(20);
            }
        }

        void note(String what, String value) {
            notes.put(what, value);
        }

        /** Watches a restarted process's log for its first succeeded job. */
        void watchForFirstSuccess(ChildProcess process) {
            watcher = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    if (SUCCEEDED_LINE.matcher(process.output()).find()) {
                        restartedFirstSuccessAt = System.currentTimeMillis();
                        return;
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "faults-log-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        void stopWatching() {
            if (watcher != null) {
                watcher.interrupt();
            }
        }
    }

    /**
     * Jobs spread over {@code spreadMs}, each POSTed first to A or B alternately (to A only when {@code allOnA}),
     * the fault running alongside; then the wait for every job to settle and the checks.
     */
    private Outcome faultScenario(String name, long spreadMs, long tailMs, boolean allOnA, Consumer<Clock> fault) {
        int n = plan.jobsPerFault();
        Clock clock = new Clock(n);
        List<TrackedJob> jobs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TrackedJob j = job(name, i);
            jobs.add(allOnA ? new TrackedJob(name, j.apiKey, j.idempotencyKey, j.body, 0) : j);
        }
        AtomicInteger stop = new AtomicInteger();
        List<java.util.concurrent.Future<?>> running = new ArrayList<>();
        long start = System.currentTimeMillis();
        // Three quarters of the jobs arrive around the fault; the last quarter once the part is back, so that the
        // recovered system (a restarted worker included) has work to show it recovered.
        int head = (int) Math.ceil(n * 0.75);
        for (int i = 0; i < n; i++) {
            TrackedJob j = jobs.get(i);
            int index = i;
            running.add(users.submit(() -> {
                if (index < head) {
                    Sleep.ms(Math.max(0, start + spreadMs * index / head - System.currentTimeMillis()));
                } else {
                    while (clock.restoredAt == 0) {
                        Sleep.ms(20);
                    }
                    Sleep.ms(Math.max(0, clock.restoredAt + tailMs * (index - head) / (n - head) - System.currentTimeMillis()));
                }
                clock.started.incrementAndGet();
                j.submit(http, j.firstGateway, plan.postPatienceMs());
                j.postDone = true;
                if (j.accepted()) {
                    j.follow(http, plan.pollMs(), () -> stop.get() > 0);
                }
            }));
        }
        try {
            fault.accept(clock);
        } finally {
            if (clock.restoredAt == 0) {
                clock.restoredAt = System.currentTimeMillis();
            }
        }
        settle(jobs, clock.restoredAt);
        stop.set(1);
        awaitAll(running, Duration.ofSeconds(60));
        clock.stopWatching();
        Outcome outcome = verify(name, false, jobs, clock.scenarioStart);
        clock.notes.forEach(outcome::note);
        measureRecovery(outcome, jobs, clock);
        return outcome;
    }

    private void measureRecovery(Outcome outcome, List<TrackedJob> jobs, Clock clock) {
        if (clock.restartedFirstSuccessAt > 0) {
            outcome.measure("kill -> restarted worker's first success (s)", (clock.restartedFirstSuccessAt - clock.faultAt) / 1000.0);
            if (clock.restoredAt > 0) {
                // From the moment the restarted worker is ready (model loaded, consuming under its old identity).
                outcome.measure("restarted worker ready -> its first success (s)",
                        Math.max(0, clock.restartedFirstSuccessAt - clock.restoredAt) / 1000.0);
            }
            if (clock.restartedAt > 0) {
                // Includes the new JVM's start and model load, before it rejoins the group under its old identity.
                outcome.measure("restart -> restarted worker's first success (s)",
                        (clock.restartedFirstSuccessAt - clock.restartedAt) / 1000.0);
            }
        } else if (WORKER_KILL.equals(outcome.scenario)) {
            outcome.note("kill -> restarted worker's first success (s)", "none");
        }
        TopicAudit audit = lastAudit;
        if (audit != null && clock.faultAt > 0) {
            Instant after = Instant.ofEpochMilli(clock.faultAt);
            audit.eventsById.values().stream().flatMap(List::stream)
                    .filter(e -> "job.succeeded".equals(e.type()) && e.at().isAfter(after))
                    .map(TopicAudit.Event::at).min(Instant::compareTo)
                    .ifPresent(first -> outcome.measure("fault -> next success anywhere (s)",
                            (first.toEpochMilli() - clock.faultAt) / 1000.0));
        }
        long lastTerminal = jobs.stream().filter(TrackedJob::terminalSeen).mapToLong(j -> j.terminalSeenAtMs).max().orElse(0);
        if (lastTerminal > 0 && clock.restoredAt > 0) {
            outcome.measure("fault over -> every job settled (s)", Math.max(0, lastTerminal - clock.restoredAt) / 1000.0);
        }
    }

    /** Waits until every POST has its answer and every accepted job is terminal, or nothing moved for the quiet period. */
    private void settle(List<TrackedJob> jobs, long restoredAt) {
        long hardDeadline = restoredAt + plan.drainLimitMs();
        long lastChange = System.currentTimeMillis();
        int lastSettled = -1;
        while (System.currentTimeMillis() < hardDeadline) {
            int posted = (int) jobs.stream().filter(j -> j.postDone).count();
            int settled = (int) jobs.stream().filter(j -> j.postDone && (!j.accepted() || j.terminalSeen())).count();
            if (settled == jobs.size()) {
                return;
            }
            if (settled + posted != lastSettled) {
                lastSettled = settled + posted;
                lastChange = System.currentTimeMillis();
            }
            long now = System.currentTimeMillis();
            if (posted == jobs.size() && now - lastChange > plan.quietMs() && now - restoredAt > plan.quietMs()) {
                return;
            }
            Sleep.ms(200);
        }
    }

    // ---------------------------------------------------------------- two gateways, no faults

    private Outcome sameKeyOnBothGateways() {
        List<TrackedJob> jobs = new ArrayList<>();
        for (int i = 0; i < plan.sameKeyPairs(); i++) {
            jobs.add(job(SAME_KEY, i));
        }
        return twoGatewayScenario(SAME_KEY, jobs, 100, (j, index) -> {
            CountDownLatch go = new CountDownLatch(1);
            java.util.concurrent.Future<?> onB = users.submit(() -> {
                await(go);
                Sleep.ms(index % 5);
                j.answered(1, http.post(1, j.apiKey, j.idempotencyKey, j.body));
            });
            go.countDown();
            j.answered(0, http.post(0, j.apiKey, j.idempotencyKey, j.body));
            awaitAll(List.of(onB), Duration.ofSeconds(30));
            if (!j.accepted()) {
                j.submit(http, 0, plan.postPatienceMs());
            }
        });
    }

    private Outcome changedBodyOnB() {
        List<TrackedJob> jobs = new ArrayList<>();
        for (int i = 0; i < plan.changedBodies(); i++) {
            jobs.add(job(CHANGED_BODY, i));
        }
        Outcome outcome = twoGatewayScenario(CHANGED_BODY, jobs, 200, (j, index) -> {
            j.submit(http, 0, plan.postPatienceMs());
            if (j.accepted()) {
                JsonObject changed = j.body.copy().put("prompt", j.body.getString("prompt") + " (changed)");
                Answer onB = http.post(1, j.apiKey, j.idempotencyKey, changed);
                j.changedBodyStatus = onB.status();
                if (onB.status() == 202) {
                    j.answers.add("B:202 for the changed body");
                }
            }
        });
        for (TrackedJob j : jobs) {
            if (j.changedBodyStatus != null && j.changedBodyStatus == 202) {
                outcome.add(Outcome.CHANGED_ACCEPTED, 1);
                outcome.example("changed body accepted: " + j.describe());
            } else if (j.changedBodyStatus != null && j.changedBodyStatus != 422) {
                outcome.add("changed body answered neither 202 nor 422", 1);
            }
        }
        return outcome;
    }

    private Outcome cancelOnB() {
        List<TrackedJob> jobs = new ArrayList<>();
        for (int i = 0; i < plan.cancels(); i++) {
            jobs.add(job(CANCEL_ON_B, i));
        }
        Outcome outcome = twoGatewayScenario(CANCEL_ON_B, jobs, 120, (j, index) -> {
            j.submit(http, 0, plan.postPatienceMs());
            if (!j.accepted()) {
                return;
            }
            // From at once to a few hundred ms: some jobs are still queued, some a worker is starting or running.
            Sleep.ms((index * 37L) % 400);
            long deadline = System.currentTimeMillis() + 3_000;
            Answer answer = http.delete(1, j.apiKey, j.id);
            while (answer.status() == 404 && System.currentTimeMillis() < deadline) {
                j.delete404s++;
                Sleep.ms(20);
                answer = http.delete(1, j.apiKey, j.id);
            }
            j.deleteStatus = answer.status();
        });
        for (TrackedJob j : jobs) {
            if (j.deleteStatus == null) {
                continue;
            }
            String last = j.finalA != null ? j.finalA : j.finalB;
            outcome.add(j.deleteStatus == 200 ? Outcome.DELETE_200 : j.deleteStatus == 409 ? Outcome.DELETE_409
                    : "DELETE " + j.deleteStatus, 1);
            outcome.add(Outcome.DELETE_404, j.delete404s > 0 ? 1 : 0);
            if ((j.deleteStatus == 200 && !"canceled".equals(last)) || (j.deleteStatus == 409 && "canceled".equals(last))) {
                outcome.add(Outcome.DELETE_MISMATCH, 1);
                outcome.example("DELETE " + j.deleteStatus + " but the job ended " + last + ": " + j.describe());
            }
        }
        return outcome;
    }

    private Outcome readOnBAfterAccept() {
        List<TrackedJob> jobs = new ArrayList<>();
        for (int i = 0; i < plan.readsAfterWrite(); i++) {
            jobs.add(job(READ_ON_B, i));
        }
        Outcome outcome = twoGatewayScenario(READ_ON_B, jobs, 60, (j, index) -> {
            j.submit(http, 0, plan.postPatienceMs());
            if (!j.accepted()) {
                return;
            }
            long deadline = j.acceptedAtMs + 5_000;
            Answer answer = j.read(http, 1);
            while (answer.status() == 404 && System.currentTimeMillis() < deadline) {
                Sleep.ms(5);
                answer = j.read(http, 1);
            }
            j.visibleOnBAfterMs = System.currentTimeMillis() - j.acceptedAtMs;
        });
        List<Long> late = jobs.stream().filter(j -> j.notFoundAfterAccept > 0 && j.visibleOnBAfterMs != null)
                .map(j -> j.visibleOnBAfterMs).sorted().toList();
        if (!late.isEmpty()) {
            outcome.note("404 on B until visible (ms, median / max)", late.get(late.size() / 2) + " / " + late.get(late.size() - 1));
        }
        return outcome;
    }

    interface Submission {
        void submit(TrackedJob job, int index);
    }

    private Outcome twoGatewayScenario(String name, List<TrackedJob> jobs, long everyMs, Submission submission) {
        long scenarioStart = System.currentTimeMillis();
        AtomicInteger stop = new AtomicInteger();
        List<java.util.concurrent.Future<?>> running = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            TrackedJob j = jobs.get(i);
            int index = i;
            long at = scenarioStart + everyMs * i;
            running.add(users.submit(() -> {
                Sleep.ms(Math.max(0, at - System.currentTimeMillis()));
                submission.submit(j, index);
                j.postDone = true;
                if (j.accepted()) {
                    j.follow(http, plan.pollMs(), () -> stop.get() > 0);
                }
            }));
        }
        settle(jobs, System.currentTimeMillis());
        stop.set(1);
        awaitAll(running, Duration.ofSeconds(60));
        return verify(name, true, jobs, scenarioStart);
    }

    // ---------------------------------------------------------------- checks

    private TopicAudit lastAudit;

    /** Every check of every accepted job of one scenario. */
    private Outcome verify(String name, boolean twoGateway, List<TrackedJob> jobs, long scenarioStart) {
        List<java.util.concurrent.Future<?>> finals = new ArrayList<>();
        for (TrackedJob j : jobs) {
            if (j.accepted()) {
                everyAnsweredId.addAll(j.answeredIds);
                finals.add(users.submit(() -> finalState(j)));
            }
        }
        awaitAll(finals, Duration.ofMinutes(5));
        TopicAudit audit = TopicAudit.read(deployment.bootstrap());
        lastAudit = audit;
        Outcome o = new Outcome(name, twoGateway);
        o.add(Outcome.SUBMITTED, jobs.size());
        for (TrackedJob j : jobs) {
            if (!j.accepted()) {
                o.add(Outcome.GAVE_UP, 1);
                o.example("not accepted: " + j.rejection);
                continue;
            }
            o.add(Outcome.ACCEPTED, 1);
            String last = j.finalA != null ? j.finalA : j.finalB;
            List<TopicAudit.Event> terminal = audit.terminalEvents(j.id);
            Map<String, List<String>> frames = sockets.terminalFrames(j.id);
            if (last == null || !EventSockets.TERMINAL.contains("job." + last)) {
                o.add(Outcome.WITHOUT_TERMINAL, 1);
                o.example("no terminal state (" + last + "; topic: " + audit.events(j.id).stream()
                        .map(TopicAudit.Event::type).toList() + ", first records " + audit.firstRecords(j.id) + "): " + j.describe());
            }
            boolean notAccepted = "not_accepted".equals(j.finalErrorCode) || terminal.stream().anyMatch(e ->
                    e.json().getJsonObject("error") != null && "not_accepted".equals(e.json().getJsonObject("error").getString("code")));
            if (notAccepted) {
                o.add(Outcome.NOT_ACCEPTED, 1);
                o.example("202 then not_accepted (topic: " + audit.events(j.id).stream().map(TopicAudit.Event::type).toList()
                        + "): " + j.describe());
            } else if ("failed".equals(last)) {
                o.add(Outcome.FAILED_OTHER, 1);
                o.example("failed " + j.finalErrorCode + ": " + j.describe());
            }
            Set<String> terminalTypes = terminal.stream().map(TopicAudit.Event::type).collect(Collectors.toSet());
            if (terminal.isEmpty()) {
                o.add(Outcome.TOPIC_NO_TERMINAL, 1);
            } else if (terminalTypes.size() > 1) {
                o.add(Outcome.TOPIC_CONFLICT, 1);
                o.example("conflicting terminal events " + terminal.stream().map(TopicAudit.Event::type).toList() + ": " + j.describe());
            } else if (terminal.size() > 1) {
                o.add(Outcome.TOPIC_DUPLICATE, 1);
                o.example("duplicate terminal events " + terminal.stream().map(TopicAudit.Event::type).toList() + ": " + j.describe());
            }
            Set<String> views = new HashSet<>();
            for (String s : new String[] {j.finalA, j.finalB, j.seenTerminal}) {
                if (s != null && EventSockets.TERMINAL.contains("job." + s)) {
                    views.add("job." + s);
                }
            }
            views.addAll(terminalTypes);
            frames.values().forEach(views::addAll);
            if (views.size() > 1 || j.terminalChanges > 0) {
                o.add(Outcome.DISAGREE, 1);
                o.example("views disagree " + views + " (WebSocket " + frames + "): " + j.describe());
            }
            if (frames.values().stream().anyMatch(l -> l.size() > 1)) {
                o.add(Outcome.WS_DUPLICATE, 1);
            }
            if (frames.isEmpty()) {
                o.add(Outcome.WS_MISSING, 1);
            }
            if ("succeeded".equals(last) && j.imageProblem != null) {
                o.add(Outcome.NO_PNG, 1);
                o.example("no PNG: " + j.imageProblem + ": " + j.describe());
            }
            if (Boolean.TRUE.equals(j.objectExists)) {
                o.add(Outcome.CANCELED_IMAGES, 1);
                o.example("canceled, but its image is in S3 (topic: " + audit.events(j.id).stream().map(TopicAudit.Event::type)
                        .toList() + "): " + j.describe());
            }
            o.add(Outcome.BACKWARD, j.backwardReads);
            o.add(Outcome.NOT_FOUND, j.notFoundAfterAccept > 0 ? 1 : 0);
            if (j.backwardReads > 0 || j.notFoundAfterAccept > 0) {
                o.example((j.backwardReads > 0 ? "backward read" : "GET 404 after 202") + ", reads " + j.reads + ": " + j.describe());
            }
            if (audit.firstRecords(j.id) > 1) {
                o.add(Outcome.SECOND_RECORDS, 1);
                o.example(audit.firstRecords(j.id) + " job records without oneway-attempt: " + j.describe());
            }
            o.add(Outcome.STARTED_TWICE, audit.count(j.id, "job.started") > 1 ? 1 : 0);
            if (j.answeredIds.size() > 1 || j.answeredSeeds.size() > 1) {
                o.add(Outcome.SPLIT, 1);
                o.example("one key, ids " + j.answeredIds + " seeds " + j.answeredSeeds + ": " + j.describe());
            }
        }
        Instant from = Instant.ofEpochMilli(scenarioStart);
        Set<String> tenants = new HashSet<>(Deployment.TENANTS.values());
        long unanswered = audit.eventsById.entrySet().stream()
                .filter(e -> !everyAnsweredId.contains(e.getKey()))
                .filter(e -> e.getValue().stream().anyMatch(ev -> tenants.contains(ev.json().getString("tenant"))))
                .filter(e -> e.getValue().get(0).at().isAfter(from))
                .count();
        o.add(Outcome.UNANSWERED, (int) unanswered);
        return o;
    }

    /** GET on both gateways once the job has settled; the image when it succeeded; the S3 object when it was canceled. */
    private void finalState(TrackedJob j) {
        for (int gateway = 0; gateway < 2; gateway++) {
            Answer answer = null;
            for (int tries = 0; tries < 5; tries++) {
                answer = http.get(gateway, j.apiKey, j.id);
                if (!answer.retriable()) {
                    break;
                }
                Sleep.ms(500);
            }
            String status = answer.status() == 200 ? answer.json().getString("status") : "http " + answer.status();
            if (gateway == 0) {
                j.finalA = status;
            } else {
                j.finalB = status;
            }
            JsonObject error = answer.json().getJsonObject("error");
            if (answer.status() == 200 && error != null) {
                j.finalErrorCode = error.getString("code");
            }
        }
        String last = j.finalA != null && !j.finalA.startsWith("http") ? j.finalA : j.finalB;
        if ("succeeded".equals(last)) {
            int w = j.body.getInteger("width");
            int h = j.body.getInteger("height");
            j.imageProblem = http.imageProblem(j.id.hashCode() & 1, j.apiKey, j.id, w, h);
        }
        if ("canceled".equals(last) || (j.deleteStatus != null && j.deleteStatus == 200)) {
            j.objectExists = objectExists("images/" + j.tenant + "/" + j.id + ".png");
        }
    }

    private Boolean objectExists(String key) {
        try {
            s3.statObject(StatObjectArgs.builder().bucket(Deployment.BUCKET).object(key).build());
            return true;
        } catch (ErrorResponseException e) {
            return "NoSuchKey".equals(e.errorResponse().code()) ? false : null;
        } catch (Exception e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- helpers

    private TrackedJob job(String scenario, int i) {
        String apiKey = apiKeys.get(i % apiKeys.size());
        // No seed: the gateway draws one, so a second acceptance under the same key shows as another seed.
        JsonObject body = new JsonObject().put("prompt", scenario + " #" + i + " " + UUID.randomUUID())
                .put("width", 64).put("height", 64).put("steps", 4);
        return new TrackedJob(scenario, apiKey, UUID.randomUUID().toString(), body, i % 2);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitAll(List<java.util.concurrent.Future<?>> futures, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        for (java.util.concurrent.Future<?> f : futures) {
            try {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                f.cancel(true);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("a user thread failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    @Override
    public void close() {
        if (sockets != null) {
            sockets.close();
        }
        users.shutdownNow();
        http.close();
        deployment.close();
        try {
            Files.createDirectories(deployment.logs());
        } catch (java.io.IOException e) {
            // only for the report's link
        }
    }
}
