package dev.oneway.standalone.faults;

import dev.oneway.standalone.faults.UserHttp.Answer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One job as its user lives it: POST with an Idempotency-Key, retried with the same key on the other gateway when
 * there is no answer, a 5xx or a 429; then GET, alternating gateways, until a terminal state; one more GET on the
 * other gateway right after (as when the user opens the image there). Everything the user saw is kept for the checks.
 */
final class TrackedJob {

    private static final Map<String, Integer> RANK = Map.of("queued", 0, "running", 1,
            "succeeded", 2, "failed", 2, "canceled", 2);

    final String scenario;
    final String apiKey;
    final String tenant;
    final String idempotencyKey;
    final JsonObject body;
    final int firstGateway;

    final List<String> answers = new CopyOnWriteArrayList<>();
    /** Every id and seed a 202 carried for this key (one each, or the gateways disagreed). */
    final Set<String> answeredIds = ConcurrentHashMap.newKeySet();
    final Set<Long> answeredSeeds = ConcurrentHashMap.newKeySet();
    volatile String id;
    volatile int acceptedBy = -1;
    volatile long acceptedAtMs;
    volatile String rejection;
    volatile boolean postDone;

    volatile String seenTerminal;
    volatile long terminalSeenAtMs;
    volatile int backwardReads;
    volatile int notFoundAfterAccept;
    volatile int terminalChanges;
    /** The user's reads in order, e.g. "B:404", "A:queued" (the first 40). */
    final List<String> reads = new CopyOnWriteArrayList<>();
    private int maxRank = -1;
    private String lastSeen;

    // Filled by the final verification.
    volatile String finalA;
    volatile String finalB;
    volatile String finalErrorCode;
    volatile String imageProblem;
    volatile Boolean objectExists;

    // Scenario-specific answers.
    volatile Integer changedBodyStatus;
    volatile Integer deleteStatus;
    volatile int delete404s;
    volatile Long visibleOnBAfterMs;

    TrackedJob(String scenario, String apiKey, String idempotencyKey, JsonObject body, int firstGateway) {
        this.scenario = scenario;
        this.apiKey = apiKey;
        this.tenant = Deployment.TENANTS.get(apiKey);
        this.idempotencyKey = idempotencyKey;
        this.body = body;
        this.firstGateway = firstGateway;
    }

    boolean accepted() {
        return id != null;
    }

    boolean terminalSeen() {
        return seenTerminal != null;
    }

    /** Records a POST answer; true when it accepted the job. */
    synchronized boolean answered(int gateway, Answer answer) {
        answers.add(Deployment.gatewayName(gateway) + ":" + answer.status()
                + (answer.errorCode() != null ? "/" + answer.errorCode() : "") + (answer.replayed() ? "/replayed" : ""));
        if (answer.status() != 202) {
            return false;
        }
        JsonObject json = answer.json();
        answeredIds.add(json.getString("id"));
        if (json.getLong("seed") != null) {
            answeredSeeds.add(json.getLong("seed"));
        }
        if (id == null) {
            id = json.getString("id");
            acceptedBy = gateway;
            acceptedAtMs = System.currentTimeMillis();
            lastSeen = json.getString("status");
            maxRank = RANK.getOrDefault(lastSeen, 0);
        }
        return true;
    }

    /** POSTs until accepted, refused (a 4xx other than 429) or out of patience; a user's retry loop. */
    void submit(UserHttp http, int gateway, long patienceMs) {
        long deadline = System.currentTimeMillis() + patienceMs;
        long backoff = 200;
        while (true) {
            Answer answer = http.post(gateway, apiKey, idempotencyKey, body);
            if (answered(gateway, answer)) {
                return;
            }
            if (!answer.retriable()) {
                rejection = answer.status() + " " + answer.errorCode();
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                rejection = "gave up after " + answers.size() + " tries: " + answers;
                return;
            }
            gateway = 1 - gateway;
            Sleep.ms(backoff);
            backoff = Math.min(backoff * 2, 2000);
        }
    }

    /** One GET as the user does it: notes backward steps, 404s of an accepted job and terminal states. */
    synchronized Answer read(UserHttp http, int gateway) {
        Answer answer = http.get(gateway, apiKey, id);
        if (reads.size() < 40) {
            reads.add(Deployment.gatewayName(gateway) + ":" + (answer.status() == 200 ? answer.json().getString("status")
                    : String.valueOf(answer.status())));
        }
        if (answer.status() == 404) {
            notFoundAfterAccept++;
        } else if (answer.status() == 200) {
            String status = answer.json().getString("status");
            int rank = RANK.getOrDefault(status, -1);
            if (rank < maxRank) {
                backwardReads++;
            }
            if (seenTerminal != null && !seenTerminal.equals(status) && rank == 2) {
                terminalChanges++;
            }
            maxRank = Math.max(maxRank, rank);
            lastSeen = status;
            if (rank == 2 && seenTerminal == null) {
                seenTerminal = status;
                terminalSeenAtMs = System.currentTimeMillis();
            }
        }
        return answer;
    }

    /** Polls, alternating gateways (starting with the one that did not accept), until terminal or {@code stop}. */
    void follow(UserHttp http, long pollMs, java.util.function.BooleanSupplier stop) {
        int gateway = 1 - Math.max(acceptedBy, 0);
        while (!terminalSeen() && !stop.getAsBoolean()) {
            read(http, gateway);
            if (terminalSeen()) {
                read(http, 1 - gateway);
                return;
            }
            gateway = 1 - gateway;
            Sleep.ms(pollMs);
        }
    }

    String describe() {
        return scenario + " key " + idempotencyKey + " id " + id + " answers " + answers + " seen " + seenTerminal
                + " final A/B " + finalA + "/" + finalB;
    }
}
