package dev.stallwatch.ingest.upstream;

import dev.stallwatch.ingest.publish.EventSink;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's upstream side: access logs, scrapes and push endpoints feeding one
 * {@link UpstreamAggregator}, which publishes {@code UpstreamWindow}s into the sink.
 *
 * <pre>
 * UpstreamCollector upstream = UpstreamCollector.builder()
 *     .sink(sink).registry(registry).host(hostName)
 *     .addressMap(Path.of("/etc/stallwatch/upstreams.csv"))
 *     .nginxLog(Path.of("/var/log/nginx/access.log"), NginxLogFormat.COMBINED_WITH_UPSTREAM, null)
 *     .build();
 * upstream.pushEndpoints().register(httpServer);
 * upstream.start();
 * ...
 * upstream.close(); // publishes the windows still open: before the sink is closed
 * </pre>
 *
 * Logs are polled every {@code pollInterval}; scrapes run once per window, just after each window
 * boundary, so that a scrape's increase falls in the window that just ended.
 */
public final class UpstreamCollector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(UpstreamCollector.class);

  private final UpstreamAggregator aggregator;
  private final UpstreamAddressMap addresses;
  private final UpstreamMetrics metrics;
  private final PushEndpoints pushEndpoints;
  private final List<UpstreamSource> logSources;
  private final List<UpstreamSource> scrapeSources;
  private final List<UpstreamSource> haproxySources;
  private final Duration haproxyPollInterval;
  private final Clock clock;
  private final Duration pollInterval;
  private final Duration scrapeOffset;
  private ScheduledExecutorService scheduler;

  private UpstreamCollector(Builder b, UpstreamMetrics metrics, UpstreamAddressMap addresses,
      UpstreamAggregator aggregator) {
    this.metrics = metrics;
    this.addresses = addresses;
    this.aggregator = aggregator;
    this.clock = b.clock;
    this.pollInterval = b.pollInterval;
    this.scrapeOffset = b.scrapeOffset;
    this.pushEndpoints = new PushEndpoints(aggregator, addresses, b.sink, metrics, b.clock);
    List<UpstreamSource> logs = new ArrayList<>();
    for (LogSpec log : b.logs) {
      LogFileTailer tailer = new LogFileTailer(log.path, b.startAtEnd ? LogFileTailer.Start.END
          : LogFileTailer.Start.BEGINNING, b.clock, b.rotateWait, b.maxLineBytes);
      logs.add(new AccessLogSource(log.kind, tailer, log.parser, addresses, aggregator, metrics, b.clock));
    }
    List<UpstreamSource> scrapes = new ArrayList<>();
    for (ScrapeSpec scrape : b.scrapes) {
      scrapes.add(new PrometheusScrapeSource(scrape.target, scrape.counters, b.scrapeTimeout, addresses, aggregator,
          metrics, b.clock));
    }
    this.logSources = List.copyOf(logs);
    this.scrapeSources = List.copyOf(scrapes);
    List<UpstreamSource> haproxies = new ArrayList<>();
    for (Path socket : b.haproxySockets) {
      haproxies.add(new HaproxyStatsSource(socket, b.scrapeTimeout, addresses, aggregator, b.sink, metrics, b.clock));
    }
    this.haproxySources = List.copyOf(haproxies);
    this.haproxyPollInterval = b.haproxyPollInterval;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code POST /v1/upstream} and {@code POST /v1/traffic}, to {@link PushEndpoints#register} on a server. */
  public PushEndpoints pushEndpoints() {
    return pushEndpoints;
  }

  public UpstreamAggregator aggregator() {
    return aggregator;
  }

  public UpstreamMetrics metrics() {
    return metrics;
  }

  public List<String> sourceNames() {
    List<String> names = new ArrayList<>();
    logSources.forEach(s -> names.add(s.name()));
    scrapeSources.forEach(s -> names.add(s.name()));
    haproxySources.forEach(s -> names.add(s.name()));
    return names;
  }

  /** Starts polling on two daemon threads. */
  public synchronized void start() {
    if (scheduler != null) {
      throw new IllegalStateException("already started");
    }
    sourceNames().forEach(metrics::source);
    AtomicInteger threads = new AtomicInteger();
    scheduler = Executors.newScheduledThreadPool(2, runnable -> {
      Thread thread = new Thread(runnable, "stallwatch-upstream-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    long pollMs = pollInterval.toMillis();
    scheduler.scheduleWithFixedDelay(this::pollLogsAndTick, 0, pollMs, TimeUnit.MILLISECONDS);
    long windowMs = aggregator.windowMs();
    long now = clock.millis();
    long firstScrape = aggregator.windowStart(now) + windowMs + scrapeOffset.toMillis() - now;
    for (UpstreamSource scrape : scrapeSources) {
      // a first scrape now sets the baseline, so the first window boundary already yields counts
      scheduler.execute(() -> poll(scrape));
      scheduler.scheduleAtFixedRate(() -> poll(scrape), firstScrape, windowMs, TimeUnit.MILLISECONDS);
    }
    for (UpstreamSource haproxy : haproxySources) {
      // polled often: a drain should reach the detector within a poll, not a window
      scheduler.scheduleWithFixedDelay(() -> poll(haproxy), 0, haproxyPollInterval.toMillis(), TimeUnit.MILLISECONDS);
    }
    LOG.info("upstream sources: {}", sourceNames().isEmpty() ? "push endpoints only" : sourceNames());
  }

  /** One round of what the log thread does: reload the address map, read the logs, publish due windows. */
  void pollLogsAndTick() {
    addresses.reloadIfChanged();
    for (UpstreamSource source : logSources) {
      poll(source);
    }
    try {
      aggregator.tick();
    } catch (RuntimeException e) {
      metrics.sourceErrors.labelValues("publish").inc();
      LOG.error("publishing upstream windows failed", e);
    }
  }

  /** Polls every scrape source once; for tests, which drive the collector without its threads. */
  void scrapeAll() {
    scrapeSources.forEach(this::poll);
    haproxySources.forEach(this::poll);
  }

  private void poll(UpstreamSource source) {
    try {
      source.poll();
    } catch (IOException | RuntimeException e) {
      // a source's failure must not end its schedule: a failing task is never run again
      metrics.sourceErrors.labelValues(source.name()).inc();
      LOG.warn("{}: poll failed", source.name(), e);
    }
  }

  /** Stops polling, reads what the logs still hold, publishes every open window and closes the sources. */
  @Override
  public synchronized void close() {
    if (scheduler != null) {
      scheduler.shutdown();
      try {
        if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
          scheduler.shutdownNow();
          LOG.warn("upstream sources did not stop within 10 s");
        }
      } catch (InterruptedException e) {
        scheduler.shutdownNow();
        Thread.currentThread().interrupt();
      }
      scheduler = null;
    }
    logSources.forEach(this::poll);
    aggregator.closeAll();
    for (UpstreamSource source : concat(concat(logSources, scrapeSources), haproxySources)) {
      try {
        source.close();
      } catch (IOException e) {
        LOG.warn("{}: close failed", source.name(), e);
      }
    }
  }

  private static List<UpstreamSource> concat(List<UpstreamSource> a, List<UpstreamSource> b) {
    List<UpstreamSource> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private record LogSpec(String kind, Path path, UpstreamLineParser parser) {}

  private record ScrapeSpec(URI target, PrometheusScrapeSource.Counters counters) {}

  /** Configures an {@link UpstreamCollector}; {@link #build()} checks the whole. */
  public static final class Builder {
    private EventSink sink;
    private PrometheusRegistry registry;
    private String host;
    private Clock clock = Clock.systemUTC();
    private Path addressMap;
    private final List<LogSpec> logs = new ArrayList<>();
    private final List<ScrapeSpec> scrapes = new ArrayList<>();
    private final List<Path> haproxySockets = new ArrayList<>();
    private Duration haproxyPollInterval = Duration.ofSeconds(1);
    private Duration window = Duration.ofSeconds(10);
    private Duration grace = Duration.ofSeconds(5);
    private Duration correctionHorizon = Duration.ofMinutes(5);
    private Duration pollInterval = Duration.ofMillis(500);
    private Duration rotateWait = Duration.ofSeconds(5);
    private Duration scrapeTimeout = Duration.ofSeconds(3);
    private Duration scrapeOffset = Duration.ofSeconds(1);
    private boolean startAtEnd = true;
    private int maxLineBytes = 64 * 1024;

    private Builder() {}

    /** Where the windows and pushed traffic events go (the spool, or stdout for --dry-run). */
    public Builder sink(EventSink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    public Builder registry(PrometheusRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The collector's host name, carried by every window. */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The {@code address,container_id} file (see {@link UpstreamAddressMap}); needed by log and scrape sources. */
    public Builder addressMap(Path file) {
      this.addressMap = Objects.requireNonNull(file, "addressMap");
      return this;
    }

    /**
     * An nginx access log.
     *
     * @param logFormat the {@code log_format} string or directive; null for {@link NginxLogFormat#COMBINED_WITH_UPSTREAM}
     * @param slowThreshold attempts at least this slow count as timeouts too; null for 504s only
     */
    public Builder nginxLog(Path log, String logFormat, Duration slowThreshold) {
      Objects.requireNonNull(log, "log");
      NginxLogFormat format = NginxLogFormat.of(logFormat == null ? NginxLogFormat.COMBINED_WITH_UPSTREAM : logFormat);
      logs.add(new LogSpec("nginx", log, new NginxLineParser(format, slowThreshold)));
      return this;
    }

    /** An Envoy JSON access log with the default keys ({@link EnvoyLineParser.Keys#defaults()}). */
    public Builder envoyLog(Path log) {
      return envoyLog(log, EnvoyLineParser.Keys.defaults());
    }

    public Builder envoyLog(Path log, EnvoyLineParser.Keys keys) {
      Objects.requireNonNull(log, "log");
      logs.add(new LogSpec("envoy", log, new EnvoyLineParser(keys)));
      return this;
    }

    /** A Prometheus text endpoint to scrape once per window. */
    public Builder prometheus(URI target, PrometheusScrapeSource.Counters counters) {
      scrapes.add(new ScrapeSpec(Objects.requireNonNull(target, "target"), Objects.requireNonNull(counters, "counters")));
      return this;
    }

    /** An HAProxy stats socket to poll with {@code show stat} (see {@link HaproxyStatsSource}). */
    public Builder haproxy(Path statsSocket) {
      haproxySockets.add(Objects.requireNonNull(statsSocket, "statsSocket"));
      return this;
    }

    /** How often the HAProxy sockets are polled (default 1 s); each poll's increase lands in its window. */
    public Builder haproxyPollInterval(Duration interval) {
      this.haproxyPollInterval = Objects.requireNonNull(interval, "haproxyPollInterval");
      return this;
    }

    public Builder window(Duration window) {
      this.window = Objects.requireNonNull(window, "window");
      return this;
    }

    /** How long after a window's end counts for it are still awaited before it is published. */
    public Builder grace(Duration grace) {
      this.grace = Objects.requireNonNull(grace, "grace");
      return this;
    }

    /** How long a published window can still be corrected by late counts. */
    public Builder correctionHorizon(Duration horizon) {
      this.correctionHorizon = Objects.requireNonNull(horizon, "correctionHorizon");
      return this;
    }

    public Builder pollInterval(Duration interval) {
      this.pollInterval = Objects.requireNonNull(interval, "pollInterval");
      return this;
    }

    /** How long a rotated-away log is still read after its last new line. */
    public Builder rotateWait(Duration wait) {
      this.rotateWait = Objects.requireNonNull(wait, "rotateWait");
      return this;
    }

    public Builder scrapeTimeout(Duration timeout) {
      this.scrapeTimeout = Objects.requireNonNull(timeout, "scrapeTimeout");
      return this;
    }

    /** Whether logs are read from their end (default: history is not counted again) or their start. */
    public Builder startAtEnd(boolean startAtEnd) {
      this.startAtEnd = startAtEnd;
      return this;
    }

    public Builder maxLineBytes(int maxLineBytes) {
      this.maxLineBytes = maxLineBytes;
      return this;
    }

    public UpstreamCollector build() {
      if (sink == null || registry == null || host == null) {
        throw new IllegalStateException("an upstream collector needs sink(...), registry(...) and host(...)");
      }
      if (addressMap == null && (!logs.isEmpty() || !scrapes.isEmpty() || !haproxySockets.isEmpty())) {
        throw new IllegalStateException("access log and scrape sources name upstream addresses, not containers: "
            + "set addressMap(FILE) with address,container_id lines");
      }
      if (pollInterval.isZero() || pollInterval.isNegative()) {
        throw new IllegalStateException("pollInterval must be positive, got " + pollInterval);
      }
      if (haproxyPollInterval.isZero() || haproxyPollInterval.isNegative()
          || haproxyPollInterval.compareTo(window) > 0) {
        throw new IllegalStateException("the HAProxy poll interval must be positive and at most the window ("
            + window + "), got " + haproxyPollInterval);
      }
      if (!scrapes.isEmpty() && scrapeOffset.plus(scrapeTimeout).compareTo(grace) > 0) {
        throw new IllegalStateException("a scrape (" + scrapeTimeout + " timeout, " + scrapeOffset
            + " after the window ends) must finish within the grace period (" + grace + ")");
      }
      UpstreamMetrics metrics = new UpstreamMetrics(registry);
      UpstreamAddressMap addresses = addressMap == null ? UpstreamAddressMap.of(Map.of())
          : UpstreamAddressMap.load(addressMap, metrics);
      UpstreamAggregator aggregator = new UpstreamAggregator(sink, host, clock, window, grace, correctionHorizon,
          metrics);
      return new UpstreamCollector(this, metrics, addresses, aggregator);
    }
  }
}
