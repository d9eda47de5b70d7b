package dev.stallwatch.app.replay;

import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.events.InputLimits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The ranges a replay bundle's numbers must keep, so that a bad row is one line and exit 2
 * instead of a run out of memory or records the job dead-letters: timestamps between 2000 and
 * the job's {@code input.max-future} ahead of now, rows spanning at most a day, counts a
 * collector could have seen.
 */
final class BundleLimits {
  /** One row of upstream.csv or cpu.csv covers at most this (8,640 windows of 10 s). */
  static final long MAX_ROW_SPAN_MS = Duration.ofDays(1).toMillis();
  /** Seconds all rows of one file may cover together (a day for about 230 containers). */
  static final long MAX_ROW_SECONDS_PER_FILE = 20_000_000;
  /** Requests or timeouts of one row. */
  static final long MAX_COUNT = 1_000_000_000_000L;
  /** CPU of one container: no host has more cores. */
  static final double MAX_CORES = 4096;
  /** Linux's PID_MAX_LIMIT. */
  static final long MAX_PID = 4_194_304;
  /** perf's own ceiling (kernel.perf_event_max_sample_rate) is 100 kHz by default. */
  static final double MAX_SAMPLE_FREQUENCY_HZ = 1_000_000;

  private final long latestMs;

  private BundleLimits(long latestMs) {
    this.latestMs = latestMs;
  }

  static BundleLimits at(Clock clock) {
    return new BundleLimits(clock.millis() + DetectorOptions.defaults().inputMaxFuture().toMillis());
  }

  /** Null when {@code ms} is a plausible event time, else the problem ("is before 2000-01-01"). */
  String checkTimestamp(long ms) {
    if (ms < InputLimits.EARLIEST_EVENT_TIME_MS) {
      return "is before 2000-01-01 (epoch milliseconds expected)";
    }
    if (ms > latestMs) {
      return "(" + Instant.ofEpochMilli(ms) + ") is in the future";
    }
    return null;
  }
}
