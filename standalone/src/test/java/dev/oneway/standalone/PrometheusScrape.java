package dev.oneway.standalone;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A /metrics answer in the Prometheus text format, read the way Prometheus reads it: one sample per line. */
final class PrometheusScrape {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private record Sample(String name, Map<String, String> labels, double value) { }

    private final List<Sample> samples = new ArrayList<>();

    PrometheusScrape(String text) {
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line.trim());
            if (!m.matches()) {
                throw new AssertionError("not a Prometheus sample line: " + line);
            }
            Map<String, String> labels = new HashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
        }
    }

    /** The one sample with this name whose labels include the given name/value pairs; null when there is none. */
    Double value(String name, String... labelPairs) {
        List<Sample> found = samples.stream()
                .filter(s -> s.name().equals(name))
                .filter(s -> hasLabels(s, labelPairs))
                .toList();
        if (found.size() > 1) {
            throw new AssertionError(found.size() + " samples match " + name + " " + List.of(labelPairs) + ": " + found);
        }
        return found.isEmpty() ? null : found.get(0).value();
    }

    /** A counter that was never incremented has no sample; it counts zero. */
    double count(String name, String... labelPairs) {
        Double v = value(name, labelPairs);
        return v == null ? 0 : v;
    }

    private static boolean hasLabels(Sample s, String... pairs) {
        for (int i = 0; i < pairs.length; i += 2) {
            if (!pairs[i + 1].equals(s.labels().get(pairs[i]))) {
                return false;
            }
        }
        return true;
    }
}
