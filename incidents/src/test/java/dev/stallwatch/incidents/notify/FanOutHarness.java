package dev.stallwatch.incidents.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** An {@link AlertFanOut} with short backoffs, in-memory dead letters and its own metrics. */
final class FanOutHarness implements AutoCloseable {
  static final RetryPolicy FAST_RETRIES = new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(50),
      Duration.ofSeconds(20));

  final RecordingDeadLetters deadLetters = new RecordingDeadLetters();
  final NotifierMetrics metrics = NotifierMetrics.register(new PrometheusRegistry());
  final List<Throwable> fatal = new CopyOnWriteArrayList<>();
  final AlertFanOut fanOut;

  FanOutHarness(RetryPolicy retry, Notifier... notifiers) {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    fanOut = new AlertFanOut(List.of(notifiers), http, Duration.ofSeconds(5), retry, deadLetters, metrics,
        new MemoryDeliveryLog(), fatal::add);
  }

  FanOutHarness(Notifier... notifiers) {
    this(FAST_RETRIES, notifiers);
  }

  static AlertSource source(long offset) {
    return new AlertSource("stallwatch.alerts.v1", 0, offset, 1_640_782_410_000L,
        TestAlerts.CONTAINER.getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
  }

  @Override
  public void close() {
    fanOut.close();
    assertThat(fatal).isEmpty();
  }
}
