package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.schemas.v1.UpstreamWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class UpstreamAggregatorTest {
  private static final Instant T0 = Instant.parse("2024-03-05T10:15:30Z");
  private static final long W0 = T0.toEpochMilli();
  private static final Duration WINDOW = Duration.ofSeconds(10);
  private static final Duration GRACE = Duration.ofSeconds(2);
  private static final String NGINX = "nginx:/var/log/nginx/access.log";

  private final MutableClock clock = new MutableClock(T0);
  private final RecordingSink sink = new RecordingSink();
  private final UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());
  private final UpstreamAggregator aggregator =
      new UpstreamAggregator(sink, "node-a", clock, WINDOW, GRACE, Duration.ofMinutes(1), metrics);

  private static UpstreamWindow window(String source, String container, long start, long requests, long timeouts) {
    return UpstreamWindow.newBuilder().setSource(source).setContainerId(container).setHost("node-a")
        .setWindowStartMs(start).setWindowEndMs(start + 10_000).setRequests(requests).setTimeouts(timeouts).build();
  }

  @Test
  void aWindowIsPublishedOnceItsGracePeriodIsOver() {
    aggregator.record(NGINX, "orders", W0 + 1_000, 1, 0);
    aggregator.record(NGINX, "orders", W0 + 9_999, 1, 1);
    aggregator.record(NGINX, "checkout", W0 + 5_000, 3, 0);
    aggregator.record(NGINX, "orders", W0 + 10_000, 1, 0);

    clock.set(T0.plusMillis(11_999));
    assertThat(aggregator.tick()).isZero();

    clock.set(T0.plusMillis(12_000));
    assertThat(aggregator.tick()).isEqualTo(2);
    assertThat(sink.windows()).containsExactlyInAnyOrder(
        window(NGINX, "orders", W0, 2, 1),
        window(NGINX, "checkout", W0, 3, 0));
    assertThat(aggregator.openWindows()).isEqualTo(1);
  }

  @Test
  void sourcesAreCountedApart() {
    aggregator.record(NGINX, "orders", W0, 5, 1);
    aggregator.record("push", "orders", W0, 7, 2);
    clock.advance(Duration.ofSeconds(12));
    aggregator.tick();

    assertThat(sink.windows()).containsExactlyInAnyOrder(
        window(NGINX, "orders", W0, 5, 1),
        window("push", "orders", W0, 7, 2));
  }

  @Test
  void lateCountsRepublishTheWholeWindowCorrected() {
    aggregator.record(NGINX, "orders", W0 + 1_000, 10, 1);
    clock.advance(Duration.ofSeconds(12));
    aggregator.tick();

    assertThat(aggregator.record(NGINX, "orders", W0 + 9_000, 5, 4)).isEqualTo(UpstreamAggregator.Admission.CORRECTION);
    aggregator.tick();

    // the detector keeps the last copy per source: it must carry the sum
    assertThat(sink.windows()).containsExactly(
        window(NGINX, "orders", W0, 10, 1),
        window(NGINX, "orders", W0, 15, 5));
    assertThat(metrics.corrections(NGINX)).isEqualTo(1);
  }

  @Test
  void countsOlderThanTheCorrectionHorizonAreDroppedAndCounted() {
    clock.advance(Duration.ofMinutes(5));

    assertThat(aggregator.record(NGINX, "orders", W0, 1, 1)).isEqualTo(UpstreamAggregator.Admission.TOO_OLD);
    aggregator.tick();
    assertThat(sink.windows()).isEmpty();
    assertThat(metrics.droppedEvents(NGINX, "too_old")).isEqualTo(1);
  }

  @Test
  void countsFromTheFarFutureAreDroppedAndCounted() {
    assertThat(aggregator.record(NGINX, "orders", W0 + Duration.ofMinutes(2).toMillis(), 1, 0))
        .isEqualTo(UpstreamAggregator.Admission.TOO_FAR_AHEAD);
    assertThat(aggregator.record(NGINX, "orders", W0 + Duration.ofSeconds(30).toMillis(), 1, 0))
        .isEqualTo(UpstreamAggregator.Admission.OPEN);
    assertThat(metrics.droppedEvents(NGINX, "too_far_ahead")).isEqualTo(1);
  }

  @Test
  void aLongPauseClosesEveryWindowInBetween() {
    aggregator.record(NGINX, "orders", W0, 1, 0);
    aggregator.record(NGINX, "orders", W0 + 20_000, 2, 0);
    clock.advance(Duration.ofSeconds(45));

    assertThat(aggregator.tick()).isEqualTo(2);
    assertThat(sink.windows()).extracting(UpstreamWindow::getWindowStartMs).containsExactly(W0, W0 + 20_000);
  }

  @Test
  void closeAllPublishesOpenWindowsAndLaterCountsBecomeCorrections() {
    aggregator.record(NGINX, "orders", W0 + 3_000, 4, 0);

    assertThat(aggregator.closeAll()).isEqualTo(1);
    assertThat(sink.windows()).containsExactly(window(NGINX, "orders", W0, 4, 0));
    assertThat(aggregator.record(NGINX, "orders", W0 + 4_000, 1, 0)).isEqualTo(UpstreamAggregator.Admission.CORRECTION);
  }

  @Test
  void badSettingsAreRefused() {
    assertThatThrownBy(() -> new UpstreamAggregator(sink, "h", clock, WINDOW, WINDOW, Duration.ofMinutes(1), metrics))
        .hasMessageContaining("grace must be");
    assertThatThrownBy(() -> new UpstreamAggregator(sink, "h", clock, WINDOW, GRACE, Duration.ofSeconds(1), metrics))
        .hasMessageContaining("correction horizon");
  }
}
