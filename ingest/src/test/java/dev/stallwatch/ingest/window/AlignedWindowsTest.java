package dev.stallwatch.ingest.window;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AlignedWindowsTest {

  @Test
  void roundingNeverGivesAWindowMoreTimeoutsThanRequests() {
    // a row from 1 s to 11 s over 4 s windows: 3/10, 4/10, 3/10 of it in each; 2 requests round
    // to [1, 0, 1] and 1 timeout alone to [0, 1, 0]
    List<AlignedWindows.Share> shares = AlignedWindows.split(1_000, 11_000, 4_000);
    long[] requests = AlignedWindows.apportion(2, shares);
    long[] timeouts = AlignedWindows.apportion(1, shares);
    assertThat(requests).containsExactly(1, 0, 1);
    assertThat(timeouts).containsExactly(0, 1, 0);
    long[] capped = AlignedWindows.capped(timeouts, requests);
    for (int i = 0; i < capped.length; i++) {
      assertThat(capped[i]).isBetween(0L, requests[i]);
    }
    assertThat(java.util.Arrays.stream(capped).sum()).isEqualTo(1);
  }

  @Test
  void cappedKeepsTheTotalAndTheCapsForRandomRows() {
    Random random = new Random(38023);
    for (int n = 0; n < 10_000; n++) {
      long start = random.nextInt(100_000);
      long end = start + 1 + random.nextInt(100_000);
      List<AlignedWindows.Share> shares = AlignedWindows.split(start, end, 10_000);
      long requests = random.nextInt(50);
      long timeouts = random.nextInt((int) requests + 1);
      long[] r = AlignedWindows.apportion(requests, shares);
      long[] t = AlignedWindows.capped(AlignedWindows.apportion(timeouts, shares), r);
      long sum = 0;
      for (int i = 0; i < t.length; i++) {
        assertThat(t[i]).as("row %d..%d, %d/%d, window %d", start, end, timeouts, requests, i).isBetween(0L, r[i]);
        sum += t[i];
      }
      assertThat(sum).isEqualTo(timeouts);
    }
  }
}
