package dev.oneway.bench;

import java.util.List;

/**
 * One part of the report: its Markdown (tables, charts, notes) and the goals it decides.
 *
 * @param key what a later run's section must be to replace this one in the report (a run of some parts only keeps the
 *            others' sections); the title unless the title carries a figure of the run (the fan-out's clients held)
 */
public record Section(String title, String markdown, List<Goal> goals, String key) {

    public Section(String title, String markdown, List<Goal> goals) {
        this(title, markdown, goals, title);
    }
}
