package dev.stallwatch.incidents.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private final RetryPolicy policy = new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(60),
      Duration.ofMinutes(10));

  @Test
  void backoffDoublesWithJitterUpToTheMaximum() {
    Random random = new Random(7);
    for (int round = 0; round < 200; round++) {
      assertThat(policy.backoff(1, random)).isBetween(Duration.ofMillis(500), Duration.ofSeconds(1));
      assertThat(policy.backoff(2, random)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2));
      assertThat(policy.backoff(4, random)).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(8));
      assertThat(policy.backoff(7, random)).isBetween(Duration.ofSeconds(30), Duration.ofSeconds(60));
      assertThat(policy.backoff(1000, random)).isBetween(Duration.ofSeconds(30), Duration.ofSeconds(60));
    }
  }

  @Test
  void jitterSpreadsTheDelays() {
    Random random = new Random(11);
    long distinct = java.util.stream.IntStream.range(0, 50).mapToObj(i -> policy.backoff(3, random)).distinct().count();
    assertThat(distinct).isGreaterThan(40);
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> new RetryPolicy(Duration.ZERO, Duration.ofSeconds(1), Duration.ofMinutes(1)))
        .hasMessageContaining("initial backoff");
    assertThatThrownBy(() -> new RetryPolicy(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofMinutes(1)))
        .hasMessageContaining("max backoff");
    assertThatThrownBy(() -> policy.backoff(0, new Random())).hasMessageContaining("from 1");
  }
}
