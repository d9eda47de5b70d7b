package dev.stallwatch.incidents.health;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Objects;

/**
 * How long {@code container_health} keeps windows: by event time, counted back from the newest
 * {@code window_end} stored, in whole UTC days (the partitions). The days that overlap
 * {@code [newest - keep, ∞)} stay. A wall clock would drop a replayed night of 2020 on arrival;
 * this keeps it until something newer pushes it out.
 */
public record HealthRetention(Duration keep) {
  public HealthRetention {
    Objects.requireNonNull(keep, "keep");
    if (keep.isNegative() || keep.isZero()) {
      throw new IllegalArgumentException("the retention must be positive, got " + keep);
    }
  }

  /** The first UTC day kept when the newest window ends at {@code newestWindowEnd}. */
  public LocalDate firstKeptDay(Instant newestWindowEnd) {
    return HealthPartitions.dayOf(newestWindowEnd.minus(keep));
  }

  /** Where the kept days begin: what to pass to {@link HealthStore#pruneBefore}. */
  public Instant cutoff(Instant newestWindowEnd) {
    return HealthPartitions.start(firstKeptDay(newestWindowEnd));
  }

  /** Whether a window ending at {@code windowEnd} lies in a kept day. */
  public boolean keeps(Instant windowEnd, Instant newestWindowEnd) {
    return !HealthPartitions.dayOf(windowEnd).isBefore(firstKeptDay(newestWindowEnd));
  }
}
