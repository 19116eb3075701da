package dev.oneway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.oneway.worker.OffsetTracker.Delivery;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.apache.kafka.common.TopicPartition;

/**
 * The worker's delivery contract under random interleavings: a jobs topic of two partitions, a consumer group of
 * two workers, each with the real {@link OffsetTracker} and {@link MicroBatcher} used the way
 * {@link JobConsumerVerticle} and {@link CompletionPipeline} use them, and Kafka writes that land some time after
 * the pipeline decided to make them (so a revoke, a reassignment or a stop can fall in between).
 *
 * <p>What must hold: a commit never passes a record that has no outcome yet (terminal event, requeue, or skip of
 * a job that already ended), and once everything is drained every record has an outcome, every partition is
 * committed to its end and every job ended exactly once.
 */
class DeliveryStateMachineTest {

    static final int MAX_ATTEMPTS = 3;
    static final int WORKERS = 2;
    static final int PARTITIONS = 2;

    enum Kind { FETCH, RUN_BATCH, SUCCEED, FAIL, LAND, COMMIT, REVOKE, LOSE, ASSIGN, STOP }

    /** One step of a scenario; worker, partition and pick are taken modulo what exists, so every step applies. */
    record Step(Kind kind, int worker, int partition, int pick) {
        @Override
        public String toString() {
            return switch (kind) {
                case FETCH -> "fetch(w" + worker + ", p" + partition + ", up to " + (pick % 3 + 1) + ")";
                case RUN_BATCH, COMMIT, STOP -> kind.name().toLowerCase() + "(w" + worker + ")";
                case SUCCEED, FAIL -> kind.name().toLowerCase() + "(w" + worker + ", job #" + pick + ")";
                case LAND -> "land(write #" + pick + ")";
                case REVOKE, LOSE -> kind.name().toLowerCase() + "(p" + partition + ", then to w" + worker + ")";
                case ASSIGN -> "assign(p" + partition + " to w" + worker + ")";
            };
        }
    }

    record Scenario(List<Integer> jobsPerPartition, List<Step> steps) { }

    @Property(tries = 600)
    void noCommitPassesAJobWithoutOutcomeAndEveryConsumedJobEnds(@ForAll("scenarios") Scenario scenario) {
        Group group = run(scenario);
        group.checkEveryRecordHasAnOutcome();
    }

    /**
     * Exactly one terminal event per job, as long as partitions move by revocation (a rebalance, a stop) rather than
     * being lost (a session that expired while the worker was cut off, whose writes may still land afterwards). Three
     * rules make it hold, each modelled from the worker: a revocation lets the outcome writes in flight for its
     * partitions finish before committing; a copy of a job already running on the worker is skipped; and a job whose
     * end another copy has written meanwhile stores nothing and writes nothing.
     */
    @Property(tries = 600)
    void everyJobEndsExactlyOnce(@ForAll("scenarios") Scenario scenario) {
        Group group = run(scenario);
        group.checkEveryJobEndedExactlyOnce();
    }

    /** The interleaving the generations exist for, which random steps reach only rarely. */
    @Example
    void aWriteThatLandsAfterThePartitionCameBackDoesNotClearTheRedeliveredCopy() {
        run(new Scenario(List.of(0, 1), List.of(
                new Step(Kind.ASSIGN, 0, 1, 0),
                new Step(Kind.FETCH, 0, 1, 0),
                new Step(Kind.RUN_BATCH, 0, 1, 0),
                new Step(Kind.SUCCEED, 0, 1, 0),
                new Step(Kind.REVOKE, 0, 1, 0), // and straight back to the same worker
                new Step(Kind.FETCH, 0, 1, 0),
                new Step(Kind.LAND, 0, 1, 0)))).checkEveryRecordHasAnOutcome();
    }

    private static Group run(Scenario scenario) {
        Group group = new Group(scenario.jobsPerPartition());
        for (Step step : scenario.steps()) {
            group.apply(step);
            group.checkNoCommitPassesAnOpenRecord();
            group.checkNoWorkerWouldCommitPastAJobItHolds();
        }
        group.drain();
        return group;
    }

    @Provide
    Arbitrary<Scenario> scenarios() {
        return scenarios(1);
    }

    @Provide
    Arbitrary<Scenario> scenariosWithoutLostPartitions() {
        return scenarios(0);
    }

    private static Arbitrary<Scenario> scenarios(int loseWeight) {
        Arbitrary<Kind> kinds = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.just(Kind.FETCH)),
                Tuple.of(5, Arbitraries.just(Kind.RUN_BATCH)),
                Tuple.of(5, Arbitraries.just(Kind.SUCCEED)),
                Tuple.of(3, Arbitraries.just(Kind.FAIL)),
                Tuple.of(6, Arbitraries.just(Kind.LAND)),
                Tuple.of(3, Arbitraries.just(Kind.COMMIT)),
                Tuple.of(3, Arbitraries.just(Kind.REVOKE)),
                Tuple.of(loseWeight, Arbitraries.just(Kind.LOSE)),
                Tuple.of(3, Arbitraries.just(Kind.ASSIGN)),
                Tuple.of(1, Arbitraries.just(Kind.STOP)));
        Arbitrary<Step> steps = Combinators.combine(kinds, Arbitraries.integers().between(0, WORKERS - 1),
                Arbitraries.integers().between(0, PARTITIONS - 1), Arbitraries.integers().between(0, 7)).as(Step::new);
        return Combinators.combine(Arbitraries.integers().between(1, 4).list().ofSize(PARTITIONS),
                steps.list().ofMaxSize(60)).as(Scenario::new);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The model: a log per partition, the group's committed offsets, the events topic, and the workers.

    /** A record on the jobs topic: a job id and which attempt of it this is. */
    record JobRecord(TopicPartition partition, long offset, String jobId, int attempt) { }

    /** A consumed job as the pipeline sees it (CompletionPipeline.QueuedJob without the JSON). */
    record Queued(Delivery delivery, JobRecord record) { }

    enum Outcome { TERMINAL, REQUEUED, SKIPPED_ENDED, SKIPPED_DUPLICATE }

    /** A Kafka write the pipeline started (terminal event, or requeue); on landing it finishes the delivery. */
    record Write(Worker writer, Queued job, boolean terminal) { }

    static final class Worker {
        final int index;
        final OffsetTracker offsets = new OffsetTracker();
        final MicroBatcher<Queued> batcher = new MicroBatcher<>(2, 0, q -> "shape" + Math.abs(q.record().jobId().hashCode() % 2));
        final Map<TopicPartition, Long> position = new HashMap<>();
        /** Jobs the engine ran, waiting for the pipeline's next step. */
        final List<Queued> completing = new ArrayList<>();
        /** Every delivery this worker consumed and has neither finished nor handed back. */
        final Set<Delivery> holds = new HashSet<>();

        Worker(int index) {
            this.index = index;
        }
    }

    static final class Group {
        final List<TopicPartition> partitions = new ArrayList<>();
        final Map<TopicPartition, List<JobRecord>> log = new HashMap<>();
        final Map<TopicPartition, Long> committed = new HashMap<>();
        final Map<TopicPartition, Worker> owner = new HashMap<>();
        final Worker[] workers = new Worker[WORKERS];
        final List<Write> inTheAir = new ArrayList<>();
        /** The events topic, terminal events only: one job id per event. */
        final List<String> terminalEvents = new ArrayList<>();
        final Map<JobRecord, List<Outcome>> outcomes = new HashMap<>();
        final Set<String> jobIds = new HashSet<>();
        final List<String> trace = new ArrayList<>();
        long now;

        Group(List<Integer> jobsPerPartition) {
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition("jobs", p);
                partitions.add(tp);
                log.put(tp, new ArrayList<>());
                committed.put(tp, 0L);
                for (int i = 0; i < jobsPerPartition.get(p); i++) {
                    String id = "j" + p + "." + i;
                    jobIds.add(id);
                    append(tp, id, 1);
                }
            }
            for (int w = 0; w < WORKERS; w++) {
                workers[w] = new Worker(w);
            }
        }

        void apply(Step step) {
            trace.add(step.toString());
            Worker w = workers[step.worker()];
            TopicPartition p = partitions.get(step.partition());
            now++;
            switch (step.kind()) {
                case FETCH -> fetch(w, p, step.pick() % 3 + 1);
                case RUN_BATCH -> runBatch(w);
                case SUCCEED -> pick(w.completing, step.pick()).ifPresent(q -> begin(w, q, true));
                case FAIL -> pick(w.completing, step.pick()).ifPresent(q -> begin(w, q, q.record().attempt() >= MAX_ATTEMPTS));
                case LAND -> pick(inTheAir, step.pick()).ifPresent(this::land);
                case COMMIT -> commit(w, w.offsets.committable());
                case REVOKE -> {
                    revoke(p, true);
                    assign(p, w);
                }
                case LOSE -> {
                    revoke(p, false);
                    assign(p, w);
                }
                case ASSIGN -> assign(p, w);
                case STOP -> stop(w);
            }
        }

        /** JobConsumerVerticle.fetched: each record is consumed (tracked) and waits in the batcher. */
        void fetch(Worker w, TopicPartition p, int max) {
            if (owner.get(p) != w) {
                return;
            }
            List<JobRecord> records = log.get(p);
            long from = w.position.get(p);
            for (long o = from; o < Math.min(records.size(), from + max); o++) {
                Delivery d = w.offsets.consumed(p, o);
                w.holds.add(d);
                w.batcher.add(new Queued(d, records.get((int) o)), now);
                w.position.put(p, o + 1);
            }
        }

        /** BatchLoop.runBatch: revoked jobs are dropped, ended or duplicate jobs skipped, the rest run. */
        void runBatch(Worker w) {
            Optional<List<Queued>> ready = w.batcher.takeReady(now);
            if (ready.isEmpty()) {
                return;
            }
            Set<String> ids = new HashSet<>();
            for (Queued q : ready.get()) {
                String id = q.record().jobId();
                if (!w.offsets.owns(q.delivery())) {
                    w.holds.remove(q.delivery()); // handed back: the next owner has it
                    continue;
                }
                if (terminalEvents.contains(id)) {
                    outcome(q, Outcome.SKIPPED_ENDED);
                    w.offsets.finished(q.delivery());
                    w.holds.remove(q.delivery());
                } else if (runningHere(w, id) || !ids.add(id)) {
                    outcome(q, Outcome.SKIPPED_DUPLICATE);
                    w.offsets.finished(q.delivery());
                    w.holds.remove(q.delivery());
                } else {
                    w.completing.add(q);
                }
            }
        }

        /**
         * CompletionPipeline: a job whose partition is no longer ours (in this generation) is handed back; else its
         * terminal event (succeeded, or failed after its last attempt) or its requeue is written.
         */
        void begin(Worker w, Queued q, boolean terminal) {
            w.completing.remove(q);
            if (!w.offsets.owns(q.delivery())) {
                w.holds.remove(q.delivery()); // handed back
            } else if (terminalEvents.contains(q.record().jobId())) {
                outcome(q, Outcome.SKIPPED_ENDED); // another copy ended the job meanwhile
                w.offsets.finished(q.delivery());
                w.holds.remove(q.delivery());
            } else {
                inTheAir.add(new Write(w, q, terminal));
            }
        }

        /**
         * BatchLoop.running: a copy between its batch and its outcome on this worker, in an assignment it
         * still holds (a copy of an earlier assignment will be handed back, so it cannot stand for the job).
         */
        private boolean runningHere(Worker w, String id) {
            return w.completing.stream().anyMatch(q -> q.record().jobId().equals(id) && w.offsets.owns(q.delivery()))
                    || inTheAir.stream().anyMatch(x -> x.writer() == w && x.job().record().jobId().equals(id)
                            && w.offsets.owns(x.job().delivery()));
        }

        /** The worker's writes in flight for a partition land before it lets the partition go (CompletionPipeline.settled). */
        private void settle(Worker w, TopicPartition p) {
            for (Write x : List.copyOf(inTheAir)) {
                if (x.writer() == w && (p == null || x.job().delivery().partition().equals(p))) {
                    land(x);
                }
            }
        }

        /** Kafka has the write: the outcome is on the log, then the writer marks the delivery finished. */
        void land(Write write) {
            inTheAir.remove(write);
            JobRecord r = write.job().record();
            if (write.terminal()) {
                terminalEvents.add(r.jobId());
                outcome(write.job(), Outcome.TERMINAL);
            } else {
                append(r.partition(), r.jobId(), r.attempt() + 1);
                outcome(write.job(), Outcome.REQUEUED);
            }
            write.writer().offsets.finished(write.job().delivery());
            write.writer().holds.remove(write.job().delivery());
        }

        void commit(Worker w, Map<TopicPartition, Long> offsets) {
            committed.putAll(offsets);
            w.offsets.committed(offsets);
        }

        /** JobFeed.onPartitionsRevoked (commits what revoked() returns) or onPartitionsLost (commits nothing). */
        void revoke(TopicPartition p, boolean commit) {
            Worker w = owner.get(p);
            if (w == null) {
                return;
            }
            if (commit) {
                settle(w, p);
            }
            owner.remove(p);
            w.batcher.removeIf(q -> q.delivery().partition().equals(p));
            List<Delivery> held = heldInThisAssignment(w);
            Map<TopicPartition, Long> last = w.offsets.revoke(List.of(p));
            checkNotPast(held, last, "revoke(" + p + ") of w" + w.index);
            w.holds.removeIf(d -> d.partition().equals(p)); // still running ones are handed back when they finish
            if (commit) {
                committed.putAll(last);
            }
            w.position.remove(p);
        }

        /** The group gives the partition to a worker, which resumes from the last commit. */
        void assign(TopicPartition p, Worker w) {
            if (owner.containsKey(p)) {
                return;
            }
            owner.put(p, w);
            w.offsets.assigned(List.of(p));
            w.position.put(p, committed.get(p));
        }

        /**
         * JobConsumerVerticle.stop: the final commit of what is finished, then the worker leaves and comes back as a
         * fresh process. Its jobs not finished are handed back; writes it already sent may still land.
         */
        void stop(Worker w) {
            settle(w, null); // a graceful stop waits for its jobs' completions
            commit(w, w.offsets.committable());
            owner.values().removeIf(o -> o == w);
            workers[w.index] = new Worker(w.index);
        }

        /** Every partition gets an owner, and every job runs to success, until nothing is left. */
        void drain() {
            trace.add("-- drain");
            for (TopicPartition p : partitions) {
                assign(p, workers[0]);
            }
            for (int round = 0; round < 1000; round++) {
                while (!inTheAir.isEmpty()) {
                    land(inTheAir.get(0));
                }
                boolean moved = false;
                for (Worker w : workers) {
                    for (Queued q : List.copyOf(w.completing)) {
                        begin(w, q, true);
                        moved = true;
                    }
                    for (TopicPartition p : partitions) {
                        if (owner.get(p) == w && w.position.get(p) < log.get(p).size()) {
                            fetch(w, p, Integer.MAX_VALUE);
                            moved = true;
                        }
                    }
                    while (w.batcher.pending() > 0) {
                        runBatch(w);
                        moved = true;
                    }
                    commit(w, w.offsets.committable());
                }
                if (!moved && inTheAir.isEmpty()) {
                    return;
                }
            }
            fail("the group did not drain\n" + describe());
        }

        /** No committed offset passes a record with no outcome on the log yet. */
        void checkNoCommitPassesAnOpenRecord() {
            for (TopicPartition p : partitions) {
                for (JobRecord r : log.get(p)) {
                    if (r.offset() < committed.get(p) && !outcomes.containsKey(r)) {
                        fail("committed " + p + " at " + committed.get(p) + " passes " + r + ", which has no outcome\n"
                                + describe());
                    }
                }
            }
        }

        /**
         * What a worker would commit never passes a job it holds in the current assignment: a late finish of an
         * earlier assignment's copy must not clear the redelivered one.
         */
        void checkNoWorkerWouldCommitPastAJobItHolds() {
            for (Worker w : workers) {
                checkNotPast(heldInThisAssignment(w), w.offsets.committable(), "committable() of w" + w.index);
            }
        }

        private static List<Delivery> heldInThisAssignment(Worker w) {
            return w.holds.stream().filter(w.offsets::owns).toList();
        }

        private void checkNotPast(List<Delivery> held, Map<TopicPartition, Long> offsets, String what) {
            for (Delivery d : held) {
                Long offset = offsets.get(d.partition());
                if (offset != null && offset > d.offset()) {
                    fail(what + " = " + offsets + " passes " + d + ", a job still held\n" + describe());
                }
            }
        }

        void checkEveryRecordHasAnOutcome() {
            for (TopicPartition p : partitions) {
                assertEquals(log.get(p).size(), committed.get(p), p + " is committed to its end\n" + describe());
                for (JobRecord r : log.get(p)) {
                    // A redelivered copy of a record whose job already ended is skipped: that adds no outcome.
                    List<Outcome> o = outcomes.getOrDefault(r, List.of());
                    assertTrue(!o.isEmpty(), r + " has an outcome\n" + describe());
                }
            }
            for (String id : jobIds) {
                assertTrue(terminalEvents.contains(id), "job " + id + " has a terminal event\n" + describe());
            }
        }

        void checkEveryJobEndedExactlyOnce() {
            checkEveryRecordHasAnOutcome();
            for (String id : jobIds) {
                long ends = terminalEvents.stream().filter(id::equals).count();
                assertEquals(1, ends, "terminal events of job " + id + "\n" + describe());
            }
        }

        private void append(TopicPartition p, String jobId, int attempt) {
            List<JobRecord> records = log.get(p);
            records.add(new JobRecord(p, records.size(), jobId, attempt));
        }

        private void outcome(Queued q, Outcome o) {
            outcomes.computeIfAbsent(q.record(), r -> new ArrayList<>()).add(o);
        }

        private static <T> Optional<T> pick(List<T> items, int pick) {
            return items.isEmpty() ? Optional.empty() : Optional.of(items.get(pick % items.size()));
        }

        private String describe() {
            StringBuilder s = new StringBuilder("steps: ").append(String.join(", ", trace));
            for (TopicPartition p : partitions) {
                s.append("\n").append(p).append(" committed ").append(committed.get(p)).append(':');
                for (JobRecord r : log.get(p)) {
                    s.append("\n  @").append(r.offset()).append(' ').append(r.jobId()).append(" attempt ")
                            .append(r.attempt()).append(" -> ").append(outcomes.getOrDefault(r, List.of()));
                }
            }
            return s.append("\nterminal events: ").append(terminalEvents).toString();
        }
    }
}
