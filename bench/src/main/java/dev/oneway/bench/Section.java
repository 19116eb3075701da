package dev.oneway.bench;

import java.util.List;

/** One part of the report: its Markdown (tables, charts, notes) and the goals it decides. */
public record Section(String title, String markdown, List<Goal> goals) { }
