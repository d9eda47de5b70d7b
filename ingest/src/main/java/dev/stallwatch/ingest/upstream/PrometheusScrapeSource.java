package dev.stallwatch.ingest.upstream;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scrapes request and timeout counters in the Prometheus text format (e.g. Envoy's
 * {@code /stats/prometheus}) and turns them into per-window counts: the increase of each series
 * since the previous scrape, summed per backend (the value of one label, looked up in the address
 * map), is counted in the window holding the midpoint of the two scrapes.
 *
 * <p>A counter that went down was reset (the target restarted): its increase is its new value.
 * A series seen for the first time only sets its baseline. After a gap of more than two windows
 * without a successful scrape the counters set a new baseline too, rather than piling the whole
 * gap's requests and timeouts into one window, where they would look like a spike.
 */
public final class PrometheusScrapeSource implements UpstreamSource {
  private static final Logger LOG = LoggerFactory.getLogger(PrometheusScrapeSource.class);
  /** Distinct unknown backends logged per source; beyond that they are only counted. */
  private static final int LOGGED_UNKNOWN_BACKENDS = 100;

  /** Which metrics count requests and timeouts, and which label names the backend. */
  public record Counters(String requestsMetric, String timeoutsMetric, String backendLabel) {
    public Counters {
      Objects.requireNonNull(requestsMetric, "requestsMetric");
      Objects.requireNonNull(timeoutsMetric, "timeoutsMetric");
      Objects.requireNonNull(backendLabel, "backendLabel");
    }

    /** Envoy's cluster counters, per cluster: map each cluster name to its container. */
    public static Counters envoyCluster() {
      return new Counters("envoy_cluster_upstream_rq_total", "envoy_cluster_upstream_rq_timeout", "envoy_cluster_name");
    }
  }

  private final URI target;
  private final String name;
  private final Counters counters;
  private final Duration timeout;
  private final UpstreamAddressMap addresses;
  private final UpstreamAggregator aggregator;
  private final UpstreamMetrics metrics;
  private final Clock clock;
  private final HttpClient http;

  private Map<Series, Double> previous = Map.of();
  private long previousScrapeMs = -1;
  private boolean failing;
  private final Set<String> loggedUnknown = new HashSet<>();

  public PrometheusScrapeSource(URI target, Counters counters, Duration timeout, UpstreamAddressMap addresses,
      UpstreamAggregator aggregator, UpstreamMetrics metrics, Clock clock) {
    this.target = Objects.requireNonNull(target, "target");
    this.name = "prometheus:" + target;
    this.counters = Objects.requireNonNull(counters, "counters");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.addresses = Objects.requireNonNull(addresses, "addresses");
    this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  public String name() {
    return name;
  }

  /** One scrape. A failed scrape is counted and logged; the counters keep their last baseline. */
  @Override
  public synchronized void poll() throws IOException {
    HttpRequest request = HttpRequest.newBuilder(target)
        .timeout(timeout)
        .header("Accept", "text/plain;version=0.0.4")
        .GET()
        .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      failed(e.toString());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while scraping " + target, e);
    }
    if (response.statusCode() != 200) {
      failed("HTTP " + response.statusCode());
      return;
    }
    if (failing) {
      failing = false;
      LOG.info("{}: scraping again", name);
    }
    accept(response.body(), clock.millis());
  }

  private void failed(String problem) {
    metrics.scrapeFailures.labelValues(name).inc();
    if (!failing) {
      failing = true;
      LOG.warn("{}: scrape failed ({}); counting resumes with the next good scrape", name, problem);
    }
  }

  /** Counts the increases since the previous scrape; package-private so tests can feed scrapes. */
  synchronized void accept(String body, long scrapeTimeMs) {
    Map<Series, Double> current = new HashMap<>();
    for (String line : body.split("\n")) {
      PrometheusTextParser.Sample sample;
      try {
        sample = PrometheusTextParser.parse(line);
      } catch (MalformedLineException e) {
        malformed(line, e.getMessage());
        continue;
      }
      if (sample == null) {
        continue;
      }
      boolean requests = sample.name().equals(counters.requestsMetric());
      if (!requests && !sample.name().equals(counters.timeoutsMetric())) {
        continue;
      }
      metrics.lines.labelValues(name).inc();
      String backend = sample.labels().get(counters.backendLabel());
      if (backend == null) {
        malformed(line, "no label " + counters.backendLabel());
        continue;
      }
      if (!Double.isFinite(sample.value()) || sample.value() < 0) {
        malformed(line, "not a counter value");
        continue;
      }
      current.put(new Series(requests, backend, sample.labels()), sample.value());
    }
    boolean gap = previousScrapeMs >= 0 && scrapeTimeMs - previousScrapeMs > 2 * aggregator.windowMs();
    if (gap) {
      LOG.info("{}: {} ms since the last good scrape; counters set a new baseline", name,
          scrapeTimeMs - previousScrapeMs);
    }
    if (previousScrapeMs >= 0 && !gap) {
      count(current, previousScrapeMs + (scrapeTimeMs - previousScrapeMs) / 2);
    }
    previous = current;
    previousScrapeMs = scrapeTimeMs;
  }

  private void count(Map<Series, Double> current, long timestampMs) {
    Map<String, long[]> perBackend = new TreeMap<>();
    for (var entry : current.entrySet()) {
      Double before = previous.get(entry.getKey());
      if (before == null) {
        continue; // a new series: this scrape is its baseline
      }
      double now = entry.getValue();
      double increase = now - before;
      if (now < before) {
        metrics.counterResets.labelValues(name).inc();
        increase = now;
      }
      long[] counts = perBackend.computeIfAbsent(entry.getKey().backend, b -> new long[2]);
      counts[entry.getKey().requests ? 0 : 1] += Math.round(increase);
    }
    for (var entry : perBackend.entrySet()) {
      String backend = entry.getKey();
      long requests = entry.getValue()[0];
      long timeouts = entry.getValue()[1];
      var container = addresses.containerFor(backend);
      if (container.isEmpty()) {
        metrics.unmappedRequests.labelValues(name).inc(requests);
        if (loggedUnknown.size() < LOGGED_UNKNOWN_BACKENDS && loggedUnknown.add(backend)) {
          LOG.warn("{}: backend {} is not in the address map; its requests are counted as unmapped", name, backend);
        }
        continue;
      }
      aggregator.record(name, container.get(), timestampMs, requests, timeouts);
    }
  }

  private void malformed(String line, String problem) {
    metrics.malformedLines.labelValues(name).inc();
    LOG.debug("{}: skipping a malformed line ({}): {}", name, problem, line);
  }

  @Override
  public void close() {
    // HttpClient in Java 17 has no close; its threads end with it
  }

  /** One time series of one of the two counters. */
  private record Series(boolean requests, String backend, Map<String, String> labels) {}
}
