package dev.oneway.common;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The one timestamp format of Oneway's JSON (job records, events, API answers): RFC 3339 in UTC with exactly three
 * fraction digits, e.g. {@code 2025-06-01T12:00:00.123Z}. {@link Instant#toString()} would write nanoseconds on
 * one field, milliseconds on the next and no fraction at all on a whole second.
 *
 * <p>Instants kept in job records and events are cut to milliseconds when the record is made, so a record read
 * back from Kafka equals the one that was written.
 */
public final class Timestamps {

    private static final DateTimeFormatter RFC_3339_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Timestamps() { }

    /** The instant to the millisecond, as Oneway's JSON carries it. */
    public static Instant millis(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MILLIS);
    }

    /** E.g. {@code 2025-06-01T12:00:00.120Z}. */
    public static String format(Instant instant) {
        return RFC_3339_MILLIS.format(instant);
    }

    /** Any RFC 3339 UTC timestamp (older records carry nanoseconds), to the millisecond. */
    public static Instant parse(String text) {
        return millis(Instant.parse(text));
    }
}
