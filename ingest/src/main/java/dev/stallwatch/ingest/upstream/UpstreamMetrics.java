package dev.stallwatch.ingest.upstream;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;

/**
 * The upstream sources' counters, registered once on the collector's registry and shared by
 * every source. Most are labelled with the source name, e.g. {@code nginx:/var/log/nginx/access.log}.
 */
public final class UpstreamMetrics {
  final Counter lines;
  final Counter malformedLines;
  final Counter unmappedRequests;
  final Counter windows;
  final Counter corrections;
  final Counter droppedEvents;
  final Counter rotations;
  final Counter scrapeFailures;
  final Counter counterResets;
  final Counter sourceErrors;
  final Counter pushRequests;
  final Counter mapReloads;
  final Counter mapMalformedLines;
  final Gauge mapEntries;

  public UpstreamMetrics(PrometheusRegistry registry) {
    lines = Counter.builder()
        .name("stallwatch_upstream_lines_total")
        .help("Access log lines and scraped samples read, per source")
        .labelNames("source")
        .register(registry);
    malformedLines = Counter.builder()
        .name("stallwatch_upstream_malformed_lines_total")
        .help("Lines that did not parse and were skipped, per source")
        .labelNames("source")
        .register(registry);
    unmappedRequests = Counter.builder()
        .name("stallwatch_upstream_unmapped_requests_total")
        .help("Requests to an upstream address that the address map does not know, per source")
        .labelNames("source")
        .register(registry);
    windows = Counter.builder()
        .name("stallwatch_upstream_windows_total")
        .help("UpstreamWindows published, per source")
        .labelNames("source")
        .register(registry);
    corrections = Counter.builder()
        .name("stallwatch_upstream_window_corrections_total")
        .help("UpstreamWindows published again with late counts added, per source")
        .labelNames("source")
        .register(registry);
    droppedEvents = Counter.builder()
        .name("stallwatch_upstream_dropped_events_total")
        .help("Counts dropped because their time was too old to correct or too far ahead, per source")
        .labelNames("source", "reason")
        .register(registry);
    rotations = Counter.builder()
        .name("stallwatch_upstream_log_rotations_total")
        .help("Access log rotations seen: rename (a new file at the path) or truncate (copytruncate)")
        .labelNames("source", "kind")
        .register(registry);
    scrapeFailures = Counter.builder()
        .name("stallwatch_upstream_scrape_failures_total")
        .help("Prometheus scrapes that failed (connection, timeout, HTTP status)")
        .labelNames("source")
        .register(registry);
    counterResets = Counter.builder()
        .name("stallwatch_upstream_counter_resets_total")
        .help("Scraped counters that went down (the target restarted)")
        .labelNames("source")
        .register(registry);
    sourceErrors = Counter.builder()
        .name("stallwatch_upstream_source_errors_total")
        .help("Polls of a source that failed with an I/O or unexpected error")
        .labelNames("source")
        .register(registry);
    pushRequests = Counter.builder()
        .name("stallwatch_upstream_push_requests_total")
        .help("HTTP push requests, per endpoint and status code")
        .labelNames("endpoint", "code")
        .register(registry);
    mapReloads = Counter.builder()
        .name("stallwatch_upstream_address_map_reloads_total")
        .help("Reloads of the upstream address map, per result (ok, failed)")
        .labelNames("result")
        .register(registry);
    mapMalformedLines = Counter.builder()
        .name("stallwatch_upstream_address_map_malformed_lines_total")
        .help("Lines of the upstream address map that were skipped")
        .register(registry);
    mapEntries = Gauge.builder()
        .name("stallwatch_upstream_address_map_entries")
        .help("Addresses in the upstream address map")
        .register(registry);
  }

  /**
   * Exports a source's per-source series at 0 before it reads anything: a dashboard then shows
   * "no errors" rather than "no data", and rate() has a start.
   */
  public void source(String source) {
    for (Counter counter : List.of(lines, malformedLines, unmappedRequests, windows, corrections, scrapeFailures,
        counterResets, sourceErrors)) {
      counter.initLabelValues(source);
    }
  }

  /** Lines or samples a source read (a replayed bundle's upstream.csv rows count as lines too). */
  public void linesRead(String source, long count) {
    lines.labelValues(source).inc(count);
  }

  /** UpstreamWindows a source published. */
  public void windowPublished(String source) {
    windows.labelValues(source).inc();
  }

  public long lines(String source) {
    return (long) lines.labelValues(source).get();
  }

  public long malformedLines(String source) {
    return (long) malformedLines.labelValues(source).get();
  }

  public long unmappedRequests(String source) {
    return (long) unmappedRequests.labelValues(source).get();
  }

  public long rotations(String source, String kind) {
    return (long) rotations.labelValues(source, kind).get();
  }

  public long counterResets(String source) {
    return (long) counterResets.labelValues(source).get();
  }

  public long droppedEvents(String source, String reason) {
    return (long) droppedEvents.labelValues(source, reason).get();
  }

  public long corrections(String source) {
    return (long) corrections.labelValues(source).get();
  }

  public long scrapeFailures(String source) {
    return (long) scrapeFailures.labelValues(source).get();
  }

  public long pushRequests(String endpoint, int code) {
    return (long) pushRequests.labelValues(endpoint, String.valueOf(code)).get();
  }

  public long addressMapMalformedLines() {
    return (long) mapMalformedLines.get();
  }
}
