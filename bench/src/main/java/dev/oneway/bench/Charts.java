package dev.oneway.bench;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/** Bar charts as PNG files (XChart), one per benchmark, referenced from the report. */
public final class Charts {
    private Charts() { }

    /**
     * Writes a grouped bar chart: one bar per category and series.
     *
     * @param series name -> one value per category, in category order
     */
    public static Path bars(Path file, String title, String yTitle, List<String> categories, Map<String, List<Double>> series) {
        CategoryChart chart = new CategoryChartBuilder().width(800).height(420).title(title).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setLegendVisible(series.size() > 1);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setDecimalPattern("#,##0.##");
        chart.getStyler().setAvailableSpaceFill(0.7);
        chart.getStyler().setOverlapped(false);
        for (Map.Entry<String, List<Double>> s : series.entrySet()) {
            if (s.getValue().size() != categories.size()) {
                throw new IllegalArgumentException("series " + s.getKey() + " has " + s.getValue().size()
                        + " values for " + categories.size() + " categories");
            }
            chart.addSeries(s.getKey(), categories, s.getValue());
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + file, e);
        }
        return file;
    }
}
