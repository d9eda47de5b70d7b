package dev.stallwatch.incidents.notify;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * When to try a receiver again after a 429, a 5xx or a network error: exponential backoff from
 * {@code initialBackoff}, doubling up to {@code maxBackoff}, with "equal jitter" (a random delay
 * between half and all of the step) so that many notifiers do not retry in lock-step, and at most
 * {@code maxRetryTime} from the first attempt to the last. After that the alert is dead-lettered.
 *
 * @param initialBackoff the step after the first failed attempt
 * @param maxBackoff the largest step
 * @param maxRetryTime the bound on one alert's attempt cycle at one receiver
 */
public record RetryPolicy(Duration initialBackoff, Duration maxBackoff, Duration maxRetryTime) {

  /** 1 s, doubling to 60 s, for up to 10 min: PagerDuty asks for retries "after some time" on 429 and 5xx. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofMinutes(10));
  }

  public RetryPolicy {
    Objects.requireNonNull(initialBackoff, "initial backoff");
    Objects.requireNonNull(maxBackoff, "max backoff");
    Objects.requireNonNull(maxRetryTime, "max retry time");
    if (initialBackoff.isNegative() || initialBackoff.isZero()) {
      throw new IllegalArgumentException("the initial backoff must be positive, got " + initialBackoff);
    }
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("the max backoff (" + maxBackoff + ") must be at least the initial backoff ("
          + initialBackoff + ")");
    }
    if (maxRetryTime.isNegative()) {
      throw new IllegalArgumentException("the max retry time must not be negative, got " + maxRetryTime);
    }
  }

  /** The wait after failed attempt number {@code attempt} (1 = the first attempt failed). */
  public Duration backoff(int attempt, RandomGenerator random) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempts count from 1, got " + attempt);
    }
    long initial = initialBackoff.toNanos();
    long max = maxBackoff.toNanos();
    // doubling stops at max long before 2^attempt overflows
    long step = initial;
    for (int i = 1; i < attempt && step < max; i++) {
      step = step > max / 2 ? max : step * 2;
    }
    step = Math.min(step, max);
    long half = step / 2;
    return Duration.ofNanos(half + random.nextLong(step - half + 1));
  }
}
