package dev.stallwatch.ingest.upstream;

import java.io.IOException;
import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An access log (nginx or Envoy) followed by a {@link LogFileTailer}: every line is parsed, every
 * upstream attempt mapped to its container and counted in the aggregator. Malformed lines and
 * attempts to unknown addresses are counted and skipped; the first of each kind is logged.
 */
public final class AccessLogSource implements UpstreamSource {
  private static final Logger LOG = LoggerFactory.getLogger(AccessLogSource.class);
  /** Distinct unknown addresses logged per source; beyond that they are only counted. */
  private static final int LOGGED_UNKNOWN_ADDRESSES = 100;

  private final String name;
  private final LogFileTailer tailer;
  private final UpstreamLineParser parser;
  private final UpstreamAddressMap addresses;
  private final UpstreamAggregator aggregator;
  private final UpstreamMetrics metrics;
  private final Clock clock;
  private final Set<String> loggedUnknown = Collections.newSetFromMap(new LinkedHashMap<>());
  private boolean loggedMalformed;
  private final LogFileTailer.Listener listener = new LogFileTailer.Listener() {
    @Override
    public void line(String line) {
      accept(line);
    }

    @Override
    public void rotated(LogFileTailer.Rotation rotation) {
      metrics.rotations.labelValues(name, rotation.name().toLowerCase(Locale.ROOT)).inc();
      LOG.info("{}: log rotated ({})", name, rotation);
    }

    @Override
    public void oversizedLine() {
      malformed("", "longer than the line limit");
    }
  };

  /**
   * @param kind the first part of the source name: {@code nginx}, {@code envoy}
   */
  public AccessLogSource(String kind, LogFileTailer tailer, UpstreamLineParser parser, UpstreamAddressMap addresses,
      UpstreamAggregator aggregator, UpstreamMetrics metrics, Clock clock) {
    this.name = kind + ":" + tailer.path();
    this.tailer = Objects.requireNonNull(tailer, "tailer");
    this.parser = Objects.requireNonNull(parser, "parser");
    this.addresses = Objects.requireNonNull(addresses, "addresses");
    this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void poll() throws IOException {
    tailer.poll(listener);
  }

  /** Counts one line; package-private so tests can feed lines without a file. */
  void accept(String line) {
    metrics.lines.labelValues(name).inc();
    try {
      for (UpstreamHit hit : parser.parse(line)) {
        count(hit);
      }
    } catch (MalformedLineException e) {
      malformed(line, e.getMessage());
    }
  }

  private void count(UpstreamHit hit) {
    var container = addresses.containerFor(hit.address());
    if (container.isEmpty()) {
      metrics.unmappedRequests.labelValues(name).inc();
      if (loggedUnknown.size() < LOGGED_UNKNOWN_ADDRESSES && loggedUnknown.add(hit.address())) {
        LOG.warn("{}: upstream address {} is not in the address map; its requests are counted as unmapped",
            name, hit.address());
      }
      return;
    }
    long timestamp = hit.timestampMs() == UpstreamHit.UNKNOWN_TIME ? clock.millis() : hit.timestampMs();
    aggregator.record(name, container.get(), timestamp, 1, hit.timeout() ? 1 : 0);
  }

  private void malformed(String line, String problem) {
    metrics.malformedLines.labelValues(name).inc();
    if (!loggedMalformed) {
      loggedMalformed = true;
      LOG.warn("{}: skipping a malformed line ({}); further ones are only counted: {}", name, problem, line);
    } else {
      LOG.debug("{}: skipping a malformed line ({}): {}", name, problem, line);
    }
  }

  @Override
  public void close() throws IOException {
    tailer.close();
  }
}
