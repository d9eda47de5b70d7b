package dev.stallwatch.ingest.publish;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.function.LongSupplier;

/** The spool's metrics: bytes and windows waiting, windows sent, failed sends, windows dropped. */
final class SpoolMetrics {
  final Counter sent;
  final Counter failedSends;
  final Counter dropped;
  /** Why windows are dropped: the spool was full, Kafka rejected the record, or it was corrupt on disk. */
  static final List<String> REASONS = List.of("full", "rejected", "corrupt");

  SpoolMetrics(PrometheusRegistry registry, LongSupplier bytes, LongSupplier pending) {
    GaugeWithCallback.builder()
        .name("stallwatch_spool_bytes")
        .help("Bytes of the spool's segment files on disk")
        .callback(callback -> callback.call(bytes.getAsLong()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("stallwatch_spool_pending_windows")
        .help("Windows and events in the spool that Kafka has not acknowledged yet")
        .callback(callback -> callback.call(pending.getAsLong()))
        .register(registry);
    sent = Counter.builder()
        .name("stallwatch_spool_sent_windows_total")
        .help("Windows and events Kafka acknowledged")
        .register(registry);
    failedSends = Counter.builder()
        .name("stallwatch_spool_failed_sends_total")
        .help("Sends that failed (Kafka unreachable, timed out, refused); the window stays in the spool")
        .register(registry);
    dropped = Counter.builder()
        .name("stallwatch_spool_dropped_windows_total")
        .help("Windows and events lost: full (the spool was full, oldest dropped), rejected (Kafka refused the "
            + "record itself, e.g. too large), corrupt (unreadable on disk)")
        .labelNames("reason")
        .register(registry);
    // at 0 from the start: a dashboard shows "nothing lost", not "no data"
    for (String reason : REASONS) {
      dropped.initLabelValues(reason);
    }
  }
}
