package dev.oneway.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * docs/benchmarks.md: the machine, the goals table, then each section. Everything below {@link #NOTES_MARKER}
 * in the existing file is written by people (analysis of the numbers) and kept when the file is regenerated, and so
 * are the sections of parts a run leaves out.
 */
public final class Report {
    private Report() { }

    public static final String NOTES_MARKER = "<!-- Everything below this line is kept when the benchmarks rewrite this file. -->";

    /** Opens the hidden line under each section's title: its key, the run it comes from and its goals, as JSON. */
    static final String SECTION_TAG = "<!-- oneway-bench ";

    /**
     * The report of this run's sections, keeping from {@code previous} (the report as it was, or "") its hand-written
     * notes and the sections this run did not repeat ({@code --only}, {@code --skip}), each with the date of its run.
     * A section replaces the earlier one with the same key, in place; new ones come after the kept ones.
     */
    public static String render(String command, String machineTable, String started, List<Section> sections, String previous) {
        List<Dated> merged = new ArrayList<>();
        Map<String, Section> fresh = new LinkedHashMap<>();
        sections.forEach(s -> fresh.put(s.key(), s));
        for (Dated old : earlierSections(previous)) {
            Section replacement = fresh.remove(old.section().key());
            merged.add(replacement == null ? old : new Dated(replacement, started));
        }
        fresh.values().forEach(s -> merged.add(new Dated(s, started)));

        StringBuilder md = new StringBuilder();
        md.append("# Oneway benchmarks\n\n");
        md.append("Written by `").append(command).append("` (see README, \"Benchmarks\"). Every figure is the median of ")
                .append("several runs or a ratio of two things measured in the same run, on this machine:\n\n");
        md.append(machineTable).append('\n');
        if (merged.stream().anyMatch(d -> !d.run().equals(started))) {
            md.append("Sections marked *kept* come from an earlier run of the suite, named in the section; this run did not "
                    + "repeat them.\n\n");
        }
        md.append("## Goals\n\n| # | what | goal | measured | verdict |\n|---|---|---|---|---|\n");
        for (Dated d : merged) {
            for (Goal g : d.section().goals()) {
                md.append("| ").append(g.number()).append(" | ").append(g.what()).append(" | ").append(g.target())
                        .append(" | ").append(g.measured()).append(d.run().equals(started) ? "" : " (kept, " + d.run() + ")")
                        .append(" | **").append(g.verdict()).append("** |\n");
            }
        }
        md.append('\n');
        for (Dated d : merged) {
            Section s = d.section();
            JsonArray goals = new JsonArray();
            s.goals().forEach(g -> goals.add(new JsonObject().put("number", g.number()).put("what", g.what())
                    .put("target", g.target()).put("measured", g.measured()).put("met", g.met())));
            String tag = new JsonObject().put("key", s.key()).put("run", d.run()).put("goals", goals).encode()
                    .replace("--", "\\u002d\\u002d");
            md.append("## ").append(s.title()).append("\n").append(SECTION_TAG).append(tag).append(" -->\n\n");
            if (!d.run().equals(started)) {
                md.append("*Kept from the run started ").append(d.run()).append(".*\n\n");
            }
            md.append(s.markdown().strip()).append("\n\n");
        }
        md.append(NOTES_MARKER).append('\n');
        String keptNotes = keptNotes(previous);
        md.append(keptNotes.isBlank() ? "\n## Analysis\n\n(no notes yet)\n" : keptNotes);
        return md.toString();
    }

    private record Dated(Section section, String run) { }

    /**
     * The generated sections of an earlier report that carry their hidden line; sections without one (written before
     * the line existed) are not kept.
     */
    private static List<Dated> earlierSections(String previous) {
        List<Dated> out = new ArrayList<>();
        int notes = previous.indexOf(NOTES_MARKER);
        String generated = notes < 0 ? previous : previous.substring(0, notes);
        String[] parts = generated.split("\n## ", -1);
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            int titleEnd = part.indexOf('\n');
            if (titleEnd < 0 || !part.startsWith(SECTION_TAG, titleEnd + 1)) {
                continue;
            }
            String title = part.substring(0, titleEnd);
            int tagEnd = part.indexOf(" -->\n", titleEnd);
            JsonObject tag = new JsonObject(part.substring(titleEnd + 1 + SECTION_TAG.length(), tagEnd));
            String body = part.substring(tagEnd + " -->\n".length()).strip();
            String keptLine = "*Kept from the run started " + tag.getString("run") + ".*";
            if (body.startsWith(keptLine)) {
                body = body.substring(keptLine.length()).strip();
            }
            List<Goal> goals = new ArrayList<>();
            for (Object o : tag.getJsonArray("goals")) {
                JsonObject g = (JsonObject) o;
                goals.add(new Goal(g.getString("number"), g.getString("what"), g.getString("target"), g.getString("measured"),
                        g.getBoolean("met")));
            }
            out.add(new Dated(new Section(title, body, goals, tag.getString("key")), tag.getString("run")));
        }
        return out;
    }

    /** The hand-written part of an existing report, or "" when there is none. */
    static String keptNotes(String previous) {
        int at = previous.indexOf(NOTES_MARKER);
        return at < 0 ? "" : previous.substring(at + NOTES_MARKER.length() + 1);
    }

    /** The report as it is, or "" when there is none yet. */
    public static String previous(Path report) {
        try {
            return Files.isRegularFile(report) ? Files.readString(report) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Markdown table from a header and rows of already formatted cells. */
    public static String table(List<String> header, List<List<String>> rows) {
        StringBuilder md = new StringBuilder("| ").append(String.join(" | ", header)).append(" |\n|");
        md.append("---|".repeat(header.size())).append('\n');
        for (List<String> row : rows) {
            md.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        return md.toString();
    }

    public static String f(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }

    public static String image(String alt, Path chart, Path reportDir) {
        return "![" + alt + "](" + reportDir.toAbsolutePath().relativize(chart.toAbsolutePath()).toString().replace('\\', '/') + ")\n";
    }
}
