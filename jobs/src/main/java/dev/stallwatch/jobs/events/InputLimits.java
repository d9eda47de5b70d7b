package dev.stallwatch.jobs.events;

import dev.stallwatch.jobs.DetectorOptions;
import java.io.Serializable;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * The event-time bounds every input record must keep before its timestamp reaches the watermark:
 * not later than processing time + {@code input.max-future}, not before 2000, and (when
 * {@code input.max-age} is set) not older than processing time - max age.
 */
public final class InputLimits implements Serializable {

  /** No collector clock is set to before 2000: such a record is a broken clock, not data. */
  public static final long EARLIEST_EVENT_TIME_MS = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();

  private final long maxFutureMs;
  private final long maxAgeMs;
  private final Clock clock;

  private InputLimits(long maxFutureMs, long maxAgeMs, Clock clock) {
    this.maxFutureMs = maxFutureMs;
    this.maxAgeMs = maxAgeMs;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public static InputLimits of(DetectorOptions options) {
    return of(options, Clock.systemUTC());
  }

  /** With another processing-time clock (tests). */
  public static InputLimits of(DetectorOptions options, Clock clock) {
    return new InputLimits(options.inputMaxFuture().toMillis(), options.inputMaxAge().toMillis(), clock);
  }

  /** Throws when {@code eventTimeMs} (the {@code field} of a {@code message}) is out of bounds. */
  void checkEventTime(String message, String field, long eventTimeMs) throws InvalidRecordException {
    if (eventTimeMs < EARLIEST_EVENT_TIME_MS) {
      throw new InvalidRecordException(DeadLetterReason.PAST,
          message + " " + field + " " + eventTimeMs + " is before 2000-01-01");
    }
    long now = clock.millis();
    if (eventTimeMs > now && eventTimeMs - now > maxFutureMs) {
      throw new InvalidRecordException(DeadLetterReason.FUTURE, message + " " + field + " "
          + Instant.ofEpochMilli(eventTimeMs) + " is more than input.max-future (" + maxFutureMs
          + " ms) ahead of processing time " + Instant.ofEpochMilli(now));
    }
    if (maxAgeMs > 0 && now - eventTimeMs > maxAgeMs) {
      throw new InvalidRecordException(DeadLetterReason.PAST, message + " " + field + " "
          + Instant.ofEpochMilli(eventTimeMs) + " is more than input.max-age (" + maxAgeMs
          + " ms) before processing time " + Instant.ofEpochMilli(now));
    }
  }

  /** Checks a window {@code [start, end)}: both ends in bounds, end after start. */
  void checkWindow(String message, long startMs, long endMs) throws InvalidRecordException {
    if (endMs <= startMs) {
      throw new InvalidRecordException(DeadLetterReason.CONTRACT,
          message + " window [" + startMs + ", " + endMs + ") is empty");
    }
    checkEventTime(message, "window_start_ms", startMs);
    checkEventTime(message, "window_end_ms", endMs);
  }
}
