package dev.oneway.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void regeneratedReportKeepsTheHandWrittenNotesAndListsEveryGoal(@TempDir Path docs) throws Exception {
        Path report = docs.resolve("benchmarks.md");
        List<Section> first = List.of(new Section("1. Engine", "first numbers",
                List.of(new Goal("1", "TiUE / looped", "<= 0.75", "0.70", true))));
        Files.writeString(report, Report.render("cmd", "| | |\n", first, Report.keptNotes(report))
                + "\nThe decoder dominates; see the profile.\n");

        List<Section> second = List.of(new Section("1. Engine", "second numbers",
                List.of(new Goal("1", "TiUE / looped", "<= 0.75", "0.80", false), new Goal("7", "RSS", "reported", "x", null))));
        String text = Report.render("cmd", "| | |\n", second, Report.keptNotes(report));

        assertTrue(text.contains("second numbers") && !text.contains("first numbers"), text);
        assertTrue(text.contains("The decoder dominates; see the profile."), text);
        assertTrue(text.contains("| 1 | TiUE / looped | <= 0.75 | 0.80 | **missed** |"), text);
        assertTrue(text.contains("| 7 | RSS | reported | x | **reported** |"), text);
        assertEquals(text.indexOf(Report.NOTES_MARKER), text.lastIndexOf(Report.NOTES_MARKER));
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
