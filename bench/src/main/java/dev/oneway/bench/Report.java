package dev.oneway.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * docs/benchmarks.md: the machine, the goals table, then each section. Everything below {@link #NOTES_MARKER}
 * in the existing file is written by people (analysis of the numbers) and kept when the file is regenerated.
 */
public final class Report {
    private Report() { }

    public static final String NOTES_MARKER = "<!-- Everything below this line is kept when the benchmarks rewrite this file. -->";

    public static String render(String command, String machineTable, List<Section> sections, String keptNotes) {
        StringBuilder md = new StringBuilder();
        md.append("# Oneway benchmarks\n\n");
        md.append("Written by `").append(command).append("` (see README, \"Benchmarks\"). Every figure is the median of ")
                .append("several runs or a ratio of two things measured in the same run, on this machine:\n\n");
        md.append(machineTable).append('\n');
        md.append("## Goals\n\n| # | what | goal | measured | verdict |\n|---|---|---|---|---|\n");
        for (Section s : sections) {
            for (Goal g : s.goals()) {
                md.append("| ").append(g.number()).append(" | ").append(g.what()).append(" | ").append(g.target())
                        .append(" | ").append(g.measured()).append(" | **").append(g.verdict()).append("** |\n");
            }
        }
        md.append('\n');
        for (Section s : sections) {
            md.append("## ").append(s.title()).append("\n\n").append(s.markdown().strip()).append("\n\n");
        }
        md.append(NOTES_MARKER).append('\n');
        md.append(keptNotes == null || keptNotes.isBlank() ? "\n## Analysis\n\n(no notes yet)\n" : keptNotes);
        return md.toString();
    }

    /** The hand-written part of an existing report, or "" when there is none. */
    public static String keptNotes(Path report) {
        try {
            if (!Files.isRegularFile(report)) {
                return "";
            }
            String text = Files.readString(report);
            int at = text.indexOf(NOTES_MARKER);
            return at < 0 ? "" : text.substring(at + NOTES_MARKER.length() + 1);
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
