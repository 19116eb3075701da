package dev.oneway.bench;

/**
 * One goal of the performance issue and what this run measured for it.
 *
 * @param met null for figures that are reported rather than judged (memory, seconds per image)
 */
public record Goal(String number, String what, String target, String measured, Boolean met) {

    public String verdict() {
        return met == null ? "reported" : met ? "met" : "missed";
    }
}
