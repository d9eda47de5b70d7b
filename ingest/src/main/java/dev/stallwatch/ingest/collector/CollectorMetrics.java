package dev.stallwatch.ingest.collector;

import dev.stallwatch.schemas.v1.ProfileWindow;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The collector's Prometheus metrics. {@code rate(stallwatch_collector_samples_total[1m])} is
 * samples per second. Per-container series are labelled {@code container_id}; a container whose
 * last window ended more than {@link #forgetIdle} ago loses its series, so that containers that
 * come and go do not grow the scrape without bound.
 */
public final class CollectorMetrics {
  public static final String CONTAINER_LABEL = "container_id";
  public static final String REASON_LABEL = "reason";

  /** Why a sample was not folded into a window. */
  public enum SkipReason {
    /** The idle task (pid 0): the CPU had nothing to run. */
    IDLE("idle"),
    /** A process outside any container (host processes excluded), or one that exited before it was looked up. */
    NO_CONTAINER("no_container"),
    /** Its window had been published already: perf's output came later than the grace period. */
    LATE("late"),
    /** {@code /proc/PID} could not be read. */
    UNREADABLE("unreadable");

    private final String label;

    SkipReason(String label) {
      this.label = label;
    }
  }

  private final PrometheusRegistry registry;
  private final Counter samples;
  private final Counter skipped;
  private final Counter windowsPublished;
  private final Counter publishFailures;
  private final Counter parseErrors;
  private final Counter perfRestarts;
  private final Histogram sampleDelay;
  private final Gauge containerCpuCores;
  private final Gauge containerSamples;
  private final Map<String, Long> lastWindowEndMs = new ConcurrentHashMap<>();

  /** Registers the collector's metrics and the JVM's own on {@code registry}. */
  public CollectorMetrics(PrometheusRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
    samples = Counter.builder().name("stallwatch_collector_samples_total")
        .help("perf samples read; rate() is samples per second").register(registry);
    skipped = Counter.builder().name("stallwatch_collector_samples_skipped_total")
        .help("perf samples not folded into a window, by reason").labelNames(REASON_LABEL).register(registry);
    for (SkipReason reason : SkipReason.values()) {
      skipped.initLabelValues(reason.label);
    }
    windowsPublished = Counter.builder().name("stallwatch_collector_windows_published_total")
        .help("profile windows handed to the publisher").register(registry);
    publishFailures = Counter.builder().name("stallwatch_collector_publish_failures_total")
        .help("profile windows the publisher refused").register(registry);
    parseErrors = Counter.builder().name("stallwatch_collector_parse_errors_total")
        .help("lines of perf script output that could not be read").register(registry);
    perfRestarts = Counter.builder().name("stallwatch_collector_perf_restarts_total")
        .help("times perf ended and was started again").register(registry);
    sampleDelay = Histogram.builder().name("stallwatch_collector_sample_delay_seconds")
        .help("time from a sample being taken to the collector reading it; keep the window grace above its tail")
        .classicUpperBounds(0.1, 0.25, 0.5, 1, 2, 5, 10, 30).classicOnly().register(registry);
    containerCpuCores = Gauge.builder().name("stallwatch_collector_container_cpu_cores")
        .help("CPU cores the container's cgroup used in its last published window")
        .labelNames(CONTAINER_LABEL).register(registry);
    containerSamples = Gauge.builder().name("stallwatch_collector_container_samples")
        .help("perf samples in the container's last published window")
        .labelNames(CONTAINER_LABEL).register(registry);
    JvmMetrics.builder().register(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public void sampleRead() {
    samples.inc();
  }

  void sampleDelay(long millis) {
    sampleDelay.observe(Math.max(0, millis) / 1000.0);
  }

  public void sampleSkipped(SkipReason reason) {
    skipped.labelValues(reason.label).inc();
  }

  public void parseErrors(long lines) {
    parseErrors.inc(lines);
  }

  void perfRestarted() {
    perfRestarts.inc();
  }

  void publishFailed() {
    publishFailures.inc();
  }

  public void windowPublished(ProfileWindow window) {
    windowsPublished.inc();
    String id = window.getContainerId();
    containerSamples.labelValues(id).set(window.getSampleCount());
    if (window.hasCgroupCpuNs()) {
      double windowNanos = (window.getWindowEndMs() - window.getWindowStartMs()) * 1e6;
      containerCpuCores.labelValues(id).set(window.getCgroupCpuNs() / windowNanos);
    }
    lastWindowEndMs.merge(id, window.getWindowEndMs(), Math::max);
  }

  /** Removes the series of containers whose last window ended before {@code cutoffMs}; returns their ids. */
  List<String> forgetIdle(long cutoffMs) {
    List<String> gone = new ArrayList<>();
    lastWindowEndMs.forEach((id, endMs) -> {
      if (endMs < cutoffMs) {
        gone.add(id);
      }
    });
    for (String id : gone) {
      lastWindowEndMs.remove(id);
      containerCpuCores.remove(id);
      containerSamples.remove(id);
    }
    return gone;
  }

  long samplesRead() {
    return samples.getLongValue();
  }

  long skipped(SkipReason reason) {
    return (long) skipped.labelValues(reason.label).get();
  }

  long windowsPublished() {
    return windowsPublished.getLongValue();
  }

  long parseErrors() {
    return parseErrors.getLongValue();
  }

  long perfRestarts() {
    return perfRestarts.getLongValue();
  }

  int containerSeries() {
    return lastWindowEndMs.size();
  }
}
