package dev.stallwatch.incidents.query;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A point in time as people type it for {@code --since} and {@code --until}: a duration back from
 * now ({@code 7d}, {@code 12h}, {@code 30m}, {@code 45s}, {@code 2w}) or an ISO-8601 instant,
 * date-time or date. Without an offset a time is UTC; a date is its first instant (UTC).
 */
public final class TimeBound {
  public static final String EXPECTED =
      "a duration back from now (7d, 12h, 30m) or an ISO-8601 date or time (2026-11-02, 2026-11-02T10:00:00Z)";

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})([smhdw])");

  private TimeBound() {}

  public static Instant parse(String text, Clock clock) {
    String t = text.trim();
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      Duration back = switch (m.group(2)) {
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        case "d" -> Duration.ofDays(n);
        default -> Duration.ofDays(7 * n);
      };
      return clock.instant().minus(back);
    }
    try {
      if (t.length() == 10) {
        return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant();
      }
      if (t.endsWith("Z") || t.endsWith("z")) {
        return Instant.parse(t.toUpperCase(Locale.ROOT));
      }
      if (hasOffset(t)) {
        return OffsetDateTime.parse(t).toInstant();
      }
      return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("expected " + EXPECTED + ", got '" + text + "'", e);
    }
  }

  /** {@code ...T10:00+01:00} or {@code ...T10:00-05:00}: a sign after the time part. */
  private static boolean hasOffset(String t) {
    int time = t.indexOf('T');
    return time > 0 && (t.indexOf('+', time) > 0 || t.indexOf('-', time) > 0);
  }
}
