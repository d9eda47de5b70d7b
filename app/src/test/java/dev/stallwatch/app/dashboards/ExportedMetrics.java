package dev.stallwatch.app.dashboards;

import dev.stallwatch.incidents.health.HealthIngestMetrics;
import dev.stallwatch.incidents.notify.NotifierMetrics;
import dev.stallwatch.incidents.store.IngestStats;
import dev.stallwatch.incidents.web.IngestMetrics;
import dev.stallwatch.ingest.collector.CollectorMetrics;
import dev.stallwatch.ingest.upstream.UpstreamMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.lang.reflect.Constructor;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * The series names the project's processes expose on {@code /metrics}, built by registering their
 * real metric classes on fresh registries, as the processes do, and naming what a scrape would show.
 */
final class ExportedMetrics {
  private ExportedMetrics() {}

  /** {@code stallwatch collect}: collector (with the JVM's), upstream sources, spool. */
  static Set<String> collector() {
    PrometheusRegistry registry = new PrometheusRegistry();
    new CollectorMetrics(registry);
    new UpstreamMetrics(registry);
    construct("dev.stallwatch.ingest.publish.SpoolMetrics",
        new Class<?>[] {PrometheusRegistry.class, LongSupplier.class, LongSupplier.class},
        registry, (LongSupplier) () -> 0, (LongSupplier) () -> 0);
    return seriesNames(registry);
  }

  /**
   * {@code stallwatch serve}: alert ingest, notifiers, HTTP; the gauges that read a running Kafka
   * consumer (lag, the newest health window) and the health ingest series by their constants.
   */
  static Set<String> incidentService() {
    PrometheusRegistry registry = new PrometheusRegistry();
    IngestMetrics.register(registry, () -> new IngestStats(0, 0, 0, 0, 0, 0));
    NotifierMetrics.register(registry);
    construct("dev.stallwatch.incidents.web.HttpMetrics", new Class<?>[] {PrometheusRegistry.class}, registry);
    Set<String> names = seriesNames(registry);
    names.addAll(List.of(IngestMetrics.LAG, HealthIngestMetrics.RECORDS, HealthIngestMetrics.BATCHES,
        HealthIngestMetrics.FAILED_ATTEMPTS, HealthIngestMetrics.PARTITIONS_DROPPED, HealthIngestMetrics.NEWEST_WINDOW,
        HealthIngestMetrics.LAG));
    return names;
  }

  /**
   * The sample names a scrape of {@code registry} can carry: a counter's with {@code _total}, a
   * histogram's {@code _bucket}, {@code _count} and {@code _sum}, a summary's own and those two.
   * From the snapshots rather than the text format, which leaves out metrics without samples yet
   * (a labelled counter no label set was used on).
   */
  static Set<String> seriesNames(PrometheusRegistry registry) {
    Set<String> names = new TreeSet<>();
    for (MetricSnapshot snapshot : registry.scrape()) {
      String base = snapshot.getMetadata().getPrometheusName();
      if (snapshot instanceof CounterSnapshot) {
        names.add(base + "_total");
      } else if (snapshot instanceof HistogramSnapshot) {
        names.addAll(List.of(base + "_bucket", base + "_count", base + "_sum"));
      } else if (snapshot instanceof SummarySnapshot) {
        names.addAll(List.of(base, base + "_count", base + "_sum"));
      } else if (snapshot instanceof InfoSnapshot) {
        names.add(base + "_info");
      } else {
        names.add(base);
      }
    }
    return names;
  }

  // SpoolMetrics and HttpMetrics are package-private: reach their constructors as their packages do
  private static void construct(String className, Class<?>[] parameterTypes, Object... args) {
    try {
      Constructor<?> constructor = Class.forName(className).getDeclaredConstructor(parameterTypes);
      constructor.setAccessible(true);
      constructor.newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot register " + className + "'s metrics (renamed or changed?): " + e, e);
    }
  }
}
