package dev.stallwatch.incidents.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.junit.jupiter.api.Test;

class NotifierMetricsTest {

  @Test
  void countersArePerReceiverOnTheGivenRegistry() {
    PrometheusRegistry registry = new PrometheusRegistry();
    NotifierMetrics metrics = NotifierMetrics.register(registry);
    metrics.delivered("pagerduty");
    metrics.delivered("pagerduty");
    metrics.failed("webhook");
    metrics.attemptFailed("pagerduty");

    assertThat(value(registry, "stallwatch_notifier_deliveries", "pagerduty")).isEqualTo(2.0);
    assertThat(value(registry, "stallwatch_notifier_failures", "webhook")).isEqualTo(1.0);
    assertThat(value(registry, "stallwatch_notifier_attempt_errors", "pagerduty")).isEqualTo(1.0);
    assertThat(metrics.deliveries("pagerduty")).isEqualTo(2);
  }

  @Test
  void aKnownReceiverIsExportedAtZeroBeforeAnythingHappens() {
    PrometheusRegistry registry = new PrometheusRegistry();
    NotifierMetrics metrics = NotifierMetrics.register(registry);
    metrics.receiver("webhook");

    assertThat(value(registry, "stallwatch_notifier_deliveries", "webhook")).isZero();
    assertThat(value(registry, "stallwatch_notifier_failures", "webhook")).isZero();
    assertThat(value(registry, "stallwatch_notifier_attempt_errors", "webhook")).isZero();
    assertThat(value(registry, "stallwatch_notifier_resends", "webhook")).isZero();
  }

  @Test
  void registeringTwiceOnOneRegistryFails() {
    PrometheusRegistry registry = new PrometheusRegistry();
    NotifierMetrics.register(registry);
    assertThatThrownBy(() -> NotifierMetrics.register(registry)).isInstanceOf(IllegalArgumentException.class);
  }

  private static double value(PrometheusRegistry registry, String name, String receiver) {
    for (MetricSnapshot snapshot : registry.scrape()) {
      if (snapshot.getMetadata().getName().equals(name)) {
        for (CounterSnapshot.CounterDataPointSnapshot point : ((CounterSnapshot) snapshot).getDataPoints()) {
          if (receiver.equals(point.getLabels().get("receiver"))) {
            return point.getValue();
          }
        }
      }
    }
    throw new AssertionError("no " + name + "{receiver=\"" + receiver + "\"}");
  }
}
