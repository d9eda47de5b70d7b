package dev.stallwatch.ingest.upstream;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock the test moves by hand, so that windows close when the test says. */
final class MutableClock extends Clock {
  private volatile long millis;

  MutableClock(Instant start) {
    this.millis = start.toEpochMilli();
  }

  void advance(Duration by) {
    millis += by.toMillis();
  }

  void set(Instant instant) {
    millis = instant.toEpochMilli();
  }

  @Override
  public long millis() {
    return millis;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("the test clock is UTC only");
  }
}
