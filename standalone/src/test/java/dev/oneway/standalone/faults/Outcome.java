package dev.oneway.standalone.faults;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** What one scenario (a fault, or a two-gateway check) found: counts, which of them must be 0, timings, examples. */
final class Outcome {

    static final String SUBMITTED = "jobs submitted";
    static final String ACCEPTED = "jobs accepted (202)";
    static final String WITHOUT_TERMINAL = "without terminal state";
    static final String NOT_ACCEPTED = "not_accepted after 202";
    static final String TOPIC_NO_TERMINAL = "no terminal event on the topic";
    static final String TOPIC_DUPLICATE = "duplicate terminal events";
    static final String TOPIC_CONFLICT = "conflicting terminal events";
    static final String DISAGREE = "GET A / GET B / WebSocket / topic disagree";
    static final String WS_DUPLICATE = "duplicate terminal frames on one socket";
    static final String NO_PNG = "succeeded without a downloadable PNG";
    static final String CANCELED_IMAGES = "images stored for canceled jobs";
    static final String BACKWARD = "backward reads";
    static final String NOT_FOUND = "jobs with GET 404 after 202";
    static final String SECOND_RECORDS = "second job records for one id";
    static final String STARTED_TWICE = "ids with more than one job.started";
    static final String SPLIT = "keys answered with two ids or seeds";
    static final String CHANGED_ACCEPTED = "changed bodies accepted";
    static final String DELETE_MISMATCH = "DELETE answer and outcome disagree";
    // Observations, not checks.
    static final String GAVE_UP = "POSTs refused or given up";
    static final String FAILED_OTHER = "failed (other codes)";
    static final String WS_MISSING = "no terminal frame on any socket";
    static final String UNANSWERED = "ids on the topic no POST returned";
    static final String DELETE_200 = "DELETE 200";
    static final String DELETE_409 = "DELETE 409";
    static final String DELETE_404 = "DELETE 404 (retried)";

    final String scenario;
    final boolean twoGateway;
    final Map<String, Integer> counts = new LinkedHashMap<>();
    final Set<String> mustBeZero = new LinkedHashSet<>();
    /** Timings and other measurements, in words ("kill -> restarted worker's first success" -> "12.3 s"). */
    final Map<String, String> measured = new LinkedHashMap<>();
    final List<String> examples = new ArrayList<>();
    int repetitions = 1;

    Outcome(String scenario, boolean twoGateway) {
        this.scenario = scenario;
        this.twoGateway = twoGateway;
        for (String check : List.of(WITHOUT_TERMINAL, NOT_ACCEPTED, TOPIC_NO_TERMINAL, TOPIC_DUPLICATE, TOPIC_CONFLICT,
                DISAGREE, WS_DUPLICATE, NO_PNG, CANCELED_IMAGES, BACKWARD, NOT_FOUND, SECOND_RECORDS, SPLIT,
                CHANGED_ACCEPTED, DELETE_MISMATCH)) {
            mustBeZero.add(check);
        }
        if (twoGateway) {
            // Without faults a job runs once; with a worker killed or stopped a second start is how it is rescued.
            mustBeZero.add(STARTED_TWICE);
        }
    }

    void add(String count, int n) {
        counts.merge(count, n, Integer::sum);
    }

    int get(String count) {
        return counts.getOrDefault(count, 0);
    }

    void example(String text) {
        if (examples.size() < 12) {
            examples.add(text);
        }
    }

    void measure(String what, double seconds) {
        measured.merge(what, String.format(Locale.ROOT, "%.1f", seconds), (a, b) -> a + " / " + b);
    }

    void note(String what, String value) {
        measured.merge(what, value, (a, b) -> a + " / " + b);
    }

    /** The checks that found something. */
    List<String> failures() {
        return mustBeZero.stream().filter(c -> get(c) > 0).map(c -> c + ": " + get(c)).toList();
    }

    /** This outcome with another repetition of the same scenario added in. */
    Outcome merge(Outcome other) {
        other.counts.forEach(this::add);
        other.measured.forEach(this::note);
        other.examples.forEach(this::example);
        repetitions += other.repetitions;
        return this;
    }

    String measuredText() {
        StringBuilder s = new StringBuilder();
        measured.forEach((k, v) -> s.append(s.length() == 0 ? "" : "; ").append(k).append(": ").append(v));
        return s.toString();
    }

    /** Counts not shown in a table's own columns, nonzero only. */
    String otherCounts(Set<String> shown) {
        StringBuilder s = new StringBuilder();
        counts.forEach((k, v) -> {
            if (!shown.contains(k) && v != 0) {
                s.append(s.length() == 0 ? "" : "; ").append(k).append(": ").append(v);
            }
        });
        return s.toString();
    }
}
