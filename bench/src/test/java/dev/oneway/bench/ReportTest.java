package dev.oneway.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

    @Test
    void regeneratedReportKeepsTheHandWrittenNotesAndListsEveryGoal() {
        List<Section> first = List.of(new Section("1. Engine", "first numbers",
                List.of(new Goal("1", "TiUE / looped", "<= 0.75", "0.70", true))));
        String report = Report.render("cmd", "| | |\n", "2026-12-01 10:00 UTC", first, "")
                + "\nThe decoder dominates; see the profile.\n";

        List<Section> second = List.of(new Section("1. Engine", "second numbers",
                List.of(new Goal("1", "TiUE / looped", "<= 0.75", "0.80", false), new Goal("7", "RSS", "reported", "x", null))));
        String text = Report.render("cmd", "| | |\n", "2026-12-02 10:00 UTC", second, report);

        assertTrue(text.contains("second numbers") && !text.contains("first numbers"), text);
        assertTrue(text.contains("The decoder dominates; see the profile."), text);
        assertTrue(text.contains("| 1 | TiUE / looped | <= 0.75 | 0.80 | **missed** |"), text);
        assertTrue(text.contains("| 7 | RSS | reported | x | **reported** |"), text);
        assertFalse(text.contains("(kept,") || text.contains("*Kept"), text);
        assertEquals(text.indexOf(Report.NOTES_MARKER), text.lastIndexOf(Report.NOTES_MARKER));
    }

    @Test
    void aRunOfSomePartsKeepsTheOtherSectionsWithTheirGoalsAndDates() {
        List<Section> full = List.of(
                new Section("1. Engine", "engine numbers", List.of(new Goal("1", "TiUE / looped", "<= 0.75", "0.70", true))),
                new Section("6. Fan-out, 18,500 clients", "fan-out numbers -- all of them",
                        List.of(new Goal("6", "p99", "<= 150 ms", "200 ms", false)), "fanout-20000"),
                new Section("7. Real size", "real numbers", List.of()));
        String report = Report.render("cmd", "| | |\n", "2026-12-01 10:00 UTC", full, "") + "\nNotes.\n";

        List<Section> onlyFanOut = List.of(new Section("6. Fan-out, 19,000 clients", "new fan-out numbers",
                List.of(new Goal("6", "p99", "<= 150 ms", "120 ms", true)), "fanout-20000"));
        String text = Report.render("cmd --only fanout", "| | |\n", "2026-12-02 10:00 UTC", onlyFanOut, report);

        assertTrue(text.contains("new fan-out numbers") && !text.contains("fan-out numbers -- all"), text);
        assertTrue(text.indexOf("## 1. Engine") < text.indexOf("## 6. Fan-out, 19,000 clients")
                && text.indexOf("## 6. Fan-out, 19,000 clients") < text.indexOf("## 7. Real size"), "in place: " + text);
        assertFalse(text.contains("18,500"), text);
        assertTrue(text.contains("engine numbers") && text.contains("real numbers") && text.contains("Notes."), text);
        assertTrue(text.contains("| 1 | TiUE / looped | <= 0.75 | 0.70 (kept, 2026-12-01 10:00 UTC) | **met** |"), text);
        assertTrue(text.contains("| 6 | p99 | <= 150 ms | 120 ms | **met** |"), text);
        assertTrue(text.contains("*Kept from the run started 2026-12-01 10:00 UTC.*"), text);

        // and again: a kept section stays kept once, with its first date
        String third = Report.render("cmd --only fanout", "| | |\n", "2026-12-03 10:00 UTC", onlyFanOut, text);
        assertEquals(2, third.split("\\*Kept from the run started 2026-12-01 10:00 UTC\\.\\*", -1).length - 1,
                "one kept line for each of the two kept sections: " + third);
        assertEquals(1, third.split("\\(kept, 2026-12-01 10:00 UTC\\)", -1).length - 1, "the kept goal: " + third);
    }

    @Test
    void percentilesAreNearestRank() {
        double[] values = new double[100];
        Arrays.setAll(values, i -> 100 - i);
        assertEquals(50, Stats.percentile(values, 50));
        assertEquals(99, Stats.percentile(values, 99));
        assertEquals(100, Stats.percentile(values, 100));
        assertEquals(2.5, Stats.median(4, 1, 2.5));
        assertArrayEquals(new double[] {100, 99}, Arrays.copyOf(values, 2), "input left unsorted");
    }

    @Test
    void chartIsWrittenAsPng(@TempDir Path docs) throws Exception {
        Path chart = Charts.bars(docs.resolve("bench-test.png"), "t", "y", List.of("a", "b"),
                Map.of("s", List.of(1.0, 2.0)));
        byte[] bytes = Files.readAllBytes(chart);
        assertTrue(bytes.length > 1000);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(bytes, 4));
        assertEquals("![c](bench-test.png)\n", Report.image("c", chart, docs));
        assertThrows(IllegalArgumentException.class, () -> Charts.bars(docs.resolve("x.png"), "t", "y", List.of("a", "b"),
                Map.of("s", List.of(1.0))));
    }
}
