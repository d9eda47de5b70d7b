package dev.stallwatch.incidents.web;

import dev.stallwatch.incidents.store.ConsumerLag;
import dev.stallwatch.incidents.store.IncidentIngestor;
import dev.stallwatch.incidents.store.IngestStats;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/** The incident ingestor's counts ({@link IngestStats}) and lag as Prometheus metrics, read at scrape time. */
public final class IngestMetrics {
  public static final String LAG = "stallwatch_ingest_lag_records";

  private IngestMetrics() {}

  /** The counters and the lag gauge of {@code ingestor}. */
  public static void register(PrometheusRegistry registry, IncidentIngestor ingestor) {
    register(registry, ingestor::stats);
    ConsumerLag.registerGauge(registry, LAG, "Alert records between the incident ingestor's committed position and "
        + "the end of its partitions, as of its last poll; absent until it has partitions", ingestor::lagRecords);
  }

  public static void register(PrometheusRegistry registry, Supplier<IngestStats> stats) {
    Objects.requireNonNull(stats, "stats");
    counter(registry, stats, "stallwatch_ingest_records_total",
        "Alert records the incident ingestor consumed and committed", IngestStats::records);
    counter(registry, stats, "stallwatch_ingest_written_total",
        "Alerts that inserted or changed an incident row", IngestStats::written);
    counter(registry, stats, "stallwatch_ingest_unchanged_total",
        "Alerts that changed no row (duplicates, replays)", IngestStats::unchanged);
    counter(registry, stats, "stallwatch_ingest_dead_lettered_total",
        "Alert records sent to the dead-letter topic (undecodable or refused by the store)",
        IngestStats::deadLettered);
    counter(registry, stats, "stallwatch_ingest_failed_attempts_total",
        "Batches that could not be stored and were consumed again", IngestStats::failedAttempts);
    counter(registry, stats, "stallwatch_ingest_commits_total",
        "Kafka offset commits, each after its batch was durable", IngestStats::commits);
  }

  private static void counter(PrometheusRegistry registry, Supplier<IngestStats> stats, String name, String help,
                              ToLongFunction<IngestStats> value) {
    CounterWithCallback.builder()
        .name(name)
        .help(help)
        .callback(callback -> callback.call(value.applyAsLong(stats.get())))
        .register(registry);
  }
}
