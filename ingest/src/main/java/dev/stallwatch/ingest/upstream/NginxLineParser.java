package dev.stallwatch.ingest.upstream;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Reads nginx access log lines: one {@link UpstreamHit} per upstream attempt, from the lists in
 * {@code $upstream_addr}, {@code $upstream_status} and {@code $upstream_response_time}.
 *
 * <p>An attempt timed out when its {@code $upstream_status} is 504 (what nginx records for
 * {@code proxy_read_timeout} and friends, also for an attempt that was retried on another
 * server), or, with a slow threshold, when its {@code $upstream_response_time} is at least the
 * threshold; without {@code $upstream_response_time} in the format, {@code $request_time} of the
 * request is held against the last attempt.
 */
public final class NginxLineParser implements UpstreamLineParser {
  private static final DateTimeFormatter TIME_LOCAL =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);
  static final String TIMEOUT_STATUS = "504";

  private final NginxLogFormat format;
  private final Duration slowThreshold;

  /**
   * @param slowThreshold an attempt this slow counts as a timeout; null to count only 504s
   */
  public NginxLineParser(NginxLogFormat format, Duration slowThreshold) {
    this.format = Objects.requireNonNull(format, "format");
    this.slowThreshold = slowThreshold;
    if (!format.has("upstream_addr")) {
      throw new IllegalArgumentException("log_format has no $upstream_addr, so requests cannot be counted per "
          + "upstream: add it to the format (" + format.format() + ")");
    }
    if (!format.has("upstream_status") && slowThreshold == null) {
      throw new IllegalArgumentException("log_format has no $upstream_status, so timeouts cannot be seen: add "
          + "$upstream_status or set a slow-request threshold");
    }
    if (slowThreshold != null && !format.has("upstream_response_time") && !format.has("request_time")) {
      throw new IllegalArgumentException("a slow-request threshold needs $upstream_response_time or $request_time "
          + "in the log_format");
    }
  }

  @Override
  public List<UpstreamHit> parse(String line) throws MalformedLineException {
    NginxLogFormat.Fields fields = format.match(line);
    if (fields == null) {
      throw new MalformedLineException("does not match the log_format");
    }
    String[] addresses = NginxLogFormat.LIST_SEPARATOR.split(fields.get("upstream_addr"));
    if (addresses.length == 1 && addresses[0].equals("-")) {
      return List.of();
    }
    String[] statuses = list(fields, "upstream_status", addresses.length);
    String[] times = list(fields, "upstream_response_time", addresses.length);
    long timestampMs = timestamp(fields);
    List<UpstreamHit> hits = new ArrayList<>(addresses.length);
    for (int i = 0; i < addresses.length; i++) {
      if (addresses[i].equals("-")) {
        continue;
      }
      boolean timeout = statuses != null && statuses[i].equals(TIMEOUT_STATUS);
      if (slowThreshold != null && !timeout) {
        if (times != null) {
          timeout = atLeastThreshold(times[i]);
        } else if (i == addresses.length - 1) {
          timeout = atLeastThreshold(fields.get("request_time"));
        }
      }
      hits.add(new UpstreamHit(addresses[i], timestampMs, timeout));
    }
    return hits;
  }

  private String[] list(NginxLogFormat.Fields fields, String variable, int attempts) throws MalformedLineException {
    String value = fields.get(variable);
    if (value == null) {
      return null;
    }
    String[] items = NginxLogFormat.LIST_SEPARATOR.split(value);
    if (items.length != attempts) {
      throw new MalformedLineException("$" + variable + " has " + items.length + " entries for " + attempts
          + " upstream addresses");
    }
    return items;
  }

  private boolean atLeastThreshold(String seconds) throws MalformedLineException {
    if (seconds == null || seconds.equals("-")) {
      return false;
    }
    try {
      long millis = Math.round(Double.parseDouble(seconds) * 1000);
      return millis >= slowThreshold.toMillis();
    } catch (NumberFormatException e) {
      throw new MalformedLineException("not a time in seconds: " + seconds);
    }
  }

  private long timestamp(NginxLogFormat.Fields fields) throws MalformedLineException {
    try {
      String msec = fields.get("msec");
      if (msec != null) {
        int dot = msec.indexOf('.');
        return Long.parseLong(msec.substring(0, dot)) * 1000 + Long.parseLong((msec.substring(dot + 1) + "000")
            .substring(0, 3));
      }
      String local = fields.get("time_local");
      if (local != null) {
        return OffsetDateTime.parse(local, TIME_LOCAL).toInstant().toEpochMilli();
      }
      String iso = fields.get("time_iso8601");
      if (iso != null) {
        return OffsetDateTime.parse(iso, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
      }
      return UpstreamHit.UNKNOWN_TIME;
    } catch (DateTimeParseException | NumberFormatException e) {
      throw new MalformedLineException("bad time: " + e.getMessage());
    }
  }
}
