package dev.oneway.bench;

/**
 * One goal of the performance issue and what this run measured for it.
 *
 * @param met null when the run did not measure it (a part was skipped)
 */
public record Goal(String number, String what, String target, String measured, Boolean met) {

    public String verdict() {
        return met == null ? "not measured" : met ? "met" : "missed";
    }
}
