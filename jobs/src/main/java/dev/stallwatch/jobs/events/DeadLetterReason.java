package dev.stallwatch.jobs.events;

import java.util.Locale;

/**
 * Why an input record went to the dead-letter topic: the {@code stallwatch.reason} header and the
 * label of the per-reason dead-letter counter.
 */
public enum DeadLetterReason {
  /** Not a protobuf message of the topic's type (or empty). */
  UNDECODABLE,
  /** Decodes, but a required field is missing or an enum or window is invalid. */
  CONTRACT,
  /** Event time further ahead of the job's processing time than {@code input.max-future}. */
  FUTURE,
  /** Event time before {@link InputLimits#EARLIEST_EVENT_TIME_MS} or older than {@code input.max-age}. */
  PAST,
  /** A number that is negative, not finite, out of range or inconsistent (timeouts > requests). */
  NUMBER;

  /** Lower case, as in headers and metric labels: {@code future}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
