package dev.stallwatch.incidents.health;

import dev.stallwatch.incidents.store.ConsumerLag;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;

/**
 * The container health ingestor on {@code /metrics}, read from it at scrape time. The names are
 * what dashboards and alert rules use; keep them.
 */
public final class HealthIngestMetrics {
  public static final String RECORDS = "stallwatch_health_ingest_records_total";
  public static final String BATCHES = "stallwatch_health_ingest_batches_total";
  public static final String FAILED_ATTEMPTS = "stallwatch_health_ingest_failed_attempts_total";
  public static final String PARTITIONS_DROPPED = "stallwatch_health_ingest_partitions_dropped_total";
  public static final String NEWEST_WINDOW = "stallwatch_health_ingest_newest_window_seconds";
  public static final String LAG = "stallwatch_health_ingest_lag_records";

  private HealthIngestMetrics() {}

  /** Registers every metric once; a second registration on the same registry fails. */
  public static void register(PrometheusRegistry registry, HealthIngestor ingestor) {
    Objects.requireNonNull(ingestor, "ingestor");
    CounterWithCallback.builder()
        .name(RECORDS)
        .help("Container health records consumed and committed, by what became of them: written (upserted), "
            + "dead_lettered (undecodable, malformed or refused by the store), expired (older than the retention)")
        .labelNames("outcome")
        .callback(callback -> {
          HealthIngestStats stats = ingestor.stats();
          callback.call(stats.written(), "written");
          callback.call(stats.deadLettered(), "dead_lettered");
          callback.call(stats.expired(), "expired");
        })
        .register(registry);
    CounterWithCallback.builder()
        .name(BATCHES)
        .help("Polls stored in one transaction each and committed to Kafka")
        .callback(callback -> callback.call(ingestor.stats().batches()))
        .register(registry);
    CounterWithCallback.builder()
        .name(FAILED_ATTEMPTS)
        .help("Batches that could not be stored and were consumed again")
        .callback(callback -> callback.call(ingestor.stats().failedAttempts()))
        .register(registry);
    CounterWithCallback.builder()
        .name(PARTITIONS_DROPPED)
        .help("Daily partitions of container_health dropped for the retention")
        .callback(callback -> callback.call(ingestor.stats().partitionsDropped()))
        .register(registry);
    GaugeWithCallback.builder()
        .name(NEWEST_WINDOW)
        .help("End of the newest stored container health window, epoch seconds (event time: retention counts "
            + "back from it); absent while the table is empty")
        .callback(callback -> ingestor.newestWindowEnd()
            .ifPresent(end -> callback.call(end.toEpochMilli() / 1000.0)))
        .register(registry);
    ConsumerLag.registerGauge(registry, LAG, "Container health records between the ingestor's committed position "
        + "and the end of its partitions, as of its last poll; absent until it has partitions", ingestor::lagRecords);
  }
}
