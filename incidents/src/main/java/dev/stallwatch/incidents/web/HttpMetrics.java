package dev.stallwatch.incidents.web;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Set;

/** Requests per route, method and status, and their latency per route. */
final class HttpMetrics {
  /** The route label of requests that matched no route: one label, however many paths are tried. */
  static final String UNMATCHED = "unmatched";
  private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

  private final Counter requests;
  private final Histogram latency;

  HttpMetrics(PrometheusRegistry registry) {
    requests = Counter.builder()
        .name("stallwatch_http_requests_total")
        .help("HTTP requests answered by stallwatch serve, by route template, method and status")
        .labelNames("route", "method", "status")
        .register(registry);
    latency = Histogram.builder()
        .name("stallwatch_http_request_duration_seconds")
        .help("Time from a request's arrival to its answer being written, by route template")
        .unit(Unit.SECONDS)
        .classicOnly()
        .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
        .labelNames("route")
        .register(registry);
  }

  void observe(String route, String method, int status, long nanos) {
    // a client may send any method name: keep the label set bounded
    String methodLabel = METHODS.contains(method) ? method : "other";
    requests.labelValues(route, methodLabel, Integer.toString(status)).inc();
    latency.labelValues(route).observe(Unit.nanosToSeconds(nanos));
  }
}
