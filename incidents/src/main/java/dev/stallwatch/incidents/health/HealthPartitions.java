package dev.stallwatch.incidents.health;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The daily partitions of {@code container_health}: one per UTC day of {@code window_end}, named
 * {@code container_health_pYYYYMMDD} and holding {@code [day 00:00Z, next day 00:00Z)}. The names
 * are the contract with whoever reads or drops partitions outside stallwatch; the bounds are what
 * PostgreSQL routes rows by.
 */
public final class HealthPartitions {
  public static final String TABLE = "container_health";
  public static final String PREFIX = TABLE + "_p";

  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuuMMdd");
  private static final Pattern NAME = Pattern.compile(Pattern.quote(PREFIX) + "(\\d{8})");

  private HealthPartitions() {}

  /** The UTC day whose partition holds a window ending at {@code windowEnd}. */
  public static LocalDate dayOf(Instant windowEnd) {
    return LocalDate.ofInstant(windowEnd, ZoneOffset.UTC);
  }

  /** {@code container_health_p20211229}; only for days of four-digit years (what {@link HealthValidator} lets in). */
  public static String name(LocalDate day) {
    if (day.getYear() < 1000 || day.getYear() > 9999) {
      throw new IllegalArgumentException("no container_health partition for the year " + day.getYear());
    }
    return PREFIX + DAY.format(day);
  }

  /** The day a partition of this name holds; empty for a table that is not one of ours. */
  public static Optional<LocalDate> day(String partitionName) {
    Matcher m = NAME.matcher(partitionName);
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(LocalDate.parse(m.group(1), DAY));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /** The first instant of the day: the partition's inclusive lower bound. */
  public static Instant start(LocalDate day) {
    return day.atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  /** The first instant of the next day: the partition's exclusive upper bound. */
  public static Instant end(LocalDate day) {
    return start(day.plusDays(1));
  }

  /**
   * The DDL for a day's partition. DDL takes no bind parameters; the name and the bounds are
   * built from the date alone, and the bounds carry their offset so the session's TimeZone
   * cannot move them.
   */
  static String createStatement(LocalDate day) {
    return "CREATE TABLE IF NOT EXISTS " + name(day) + " PARTITION OF " + TABLE
        + " FOR VALUES FROM ('" + day + " 00:00:00+00') TO ('" + day.plusDays(1) + " 00:00:00+00')";
  }
}
