package dev.stallwatch.incidents.notify;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;

/**
 * The delivery counters, per receiver. Register once per registry and share the instance: a
 * second registration of the same names in one registry fails.
 */
public final class NotifierMetrics {
  private final Counter deliveries;
  private final Counter failures;
  private final Counter attemptErrors;
  private final Counter resends;
  private final Counter duplicates;
  private final Counter deliveryLogErrors;

  private NotifierMetrics(PrometheusRegistry registry) {
    deliveries = Counter.builder()
        .name("stallwatch_notifier_deliveries_total")
        .help("Alert events (OPEN or RESOLVED) a receiver accepted")
        .labelNames("receiver")
        .register(registry);
    failures = Counter.builder()
        .name("stallwatch_notifier_failures_total")
        .help("Alert events a receiver did not take (rejected or out of retries), dead-lettered;"
            + " receiver=\"decoder\" for records that are no alert")
        .labelNames("receiver")
        .register(registry);
    attemptErrors = Counter.builder()
        .name("stallwatch_notifier_attempt_errors_total")
        .help("HTTP attempts to a receiver that failed (non-2xx answer or network error), retried or not")
        .labelNames("receiver")
        .register(registry);
    resends = Counter.builder()
        .name("stallwatch_notifier_resends_total")
        .help("Re-sends of still-firing incidents a receiver accepted (Alertmanager)")
        .labelNames("receiver")
        .register(registry);
    duplicates = Counter.builder()
        .name("stallwatch_notifier_duplicates_total")
        .help("Alert events not sent again because the receiver had accepted them before (the delivery log)")
        .labelNames("receiver")
        .register(registry);
    deliveryLogErrors = Counter.builder()
        .name("stallwatch_notifier_delivery_log_errors_total")
        .help("Reads or writes of the delivery log that failed; the event was sent regardless")
        .labelNames("receiver")
        .register(registry);
  }

  public static NotifierMetrics register(PrometheusRegistry registry) {
    return new NotifierMetrics(Objects.requireNonNull(registry, "registry"));
  }

  /**
   * Exports a receiver's series at 0 before anything happens to it: a dashboard then shows "no
   * failures" rather than "no data", and rate() has a start.
   */
  void receiver(String receiver) {
    deliveries.initLabelValues(receiver);
    failures.initLabelValues(receiver);
    attemptErrors.initLabelValues(receiver);
    resends.initLabelValues(receiver);
    duplicates.initLabelValues(receiver);
    deliveryLogErrors.initLabelValues(receiver);
  }

  void duplicate(String receiver) {
    duplicates.labelValues(receiver).inc();
  }

  void deliveryLogError(String receiver) {
    deliveryLogErrors.labelValues(receiver).inc();
  }

  public long duplicates(String receiver) {
    return duplicates.labelValues(receiver).getLongValue();
  }

  void delivered(String receiver) {
    deliveries.labelValues(receiver).inc();
  }

  void failed(String receiver) {
    failures.labelValues(receiver).inc();
  }

  void attemptFailed(String receiver) {
    attemptErrors.labelValues(receiver).inc();
  }

  void resent(String receiver) {
    resends.labelValues(receiver).inc();
  }

  public long deliveries(String receiver) {
    return deliveries.labelValues(receiver).getLongValue();
  }

  public long failures(String receiver) {
    return failures.labelValues(receiver).getLongValue();
  }

  public long attemptErrors(String receiver) {
    return attemptErrors.labelValues(receiver).getLongValue();
  }

  public long resends(String receiver) {
    return resends.labelValues(receiver).getLongValue();
  }
}
