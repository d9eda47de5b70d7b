package dev.stallwatch.ingest.upstream;

import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Adds up the requests and timeouts every upstream source sees, per source, container and aligned
 * window, and publishes one {@link UpstreamWindow} per (source, container, window) once the
 * window is over: when the clock passes its end plus a grace period for lines still on their way.
 *
 * <p>Counts that arrive after their window was published are not lost: the window is kept for a
 * correction horizon and published again with the late counts added. The detector keeps the last
 * window a source published for a container and window, so the correction replaces the first
 * copy. Counts older than the horizon, or further ahead than a clock could plausibly be off, are
 * dropped and counted.
 *
 * <p>A container with no requests in a window gets no window from a log or push source; the
 * detector reads a missing count as no traffic when the container still has profile data.
 */
public final class UpstreamAggregator {
  /** How far ahead of this host's clock a count may be before it is taken as a bad timestamp. */
  static final Duration MAX_CLOCK_AHEAD = Duration.ofMinutes(1);
  /**
   * Distinct containers one source may count in one window, and distinct sources per window: a
   * host runs a few hundred containers, and a flood of made-up IDs must not fill the heap.
   */
  public static final int MAX_CONTAINERS_PER_SOURCE = 2_048;
  public static final int MAX_SOURCES = 64;
  /** The source label under which counts of sources over {@link #MAX_SOURCES} are dropped. */
  static final String OVERFLOW_SOURCE = "other";

  /** What became of a count. */
  public enum Admission {
    /** Added to a window that is still open. */
    OPEN,
    /** Added to a window that was published already; it will be published again. */
    CORRECTION,
    /** Older than the correction horizon: dropped. */
    TOO_OLD,
    /** Further in the future than {@link #MAX_CLOCK_AHEAD}: dropped. */
    TOO_FAR_AHEAD,
    /** A container beyond {@link #MAX_CONTAINERS_PER_SOURCE} for its source and window: dropped. */
    TOO_MANY_CONTAINERS,
    /** A source beyond {@link #MAX_SOURCES} in its window: dropped. */
    TOO_MANY_SOURCES
  }

  private final EventSink sink;
  private final String host;
  private final Clock clock;
  private final long windowMs;
  private final long graceMs;
  private final long correctionHorizonMs;
  private final UpstreamMetrics metrics;
  private final Object publishLock = new Object();

  // window start -> counts; every window in open starts at or after nextCloseMs
  private final TreeMap<Long, Map<Key, Counts>> open = new TreeMap<>();
  // windows already published, kept for corrections; every start is before nextCloseMs
  private final TreeMap<Long, Map<Key, Counts>> published = new TreeMap<>();
  private final Set<WindowKey> corrected = new LinkedHashSet<>();
  // window start -> source -> distinct containers, for open and published windows alike
  private final TreeMap<Long, Map<String, Integer>> containersPerSource = new TreeMap<>();
  private long nextCloseMs;

  public UpstreamAggregator(EventSink sink, String host, Clock clock, Duration window, Duration grace,
      Duration correctionHorizon, UpstreamMetrics metrics) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.host = Objects.requireNonNull(host, "host");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.windowMs = window.toMillis();
    this.graceMs = grace.toMillis();
    this.correctionHorizonMs = correctionHorizon.toMillis();
    if (windowMs <= 0) {
      throw new IllegalArgumentException("window must be positive, got " + window);
    }
    if (graceMs < 0 || graceMs >= windowMs) {
      throw new IllegalArgumentException("grace must be at least 0 and shorter than the window (" + window
          + "), got " + grace);
    }
    if (correctionHorizonMs < windowMs) {
      throw new IllegalArgumentException("correction horizon must be at least one window (" + window
          + "), got " + correctionHorizon);
    }
    this.nextCloseMs = windowStart(clock.millis());
  }

  public long windowMs() {
    return windowMs;
  }

  public long windowStart(long epochMillis) {
    return Math.floorDiv(epochMillis, windowMs) * windowMs;
  }

  /** What {@link #record} would do with a count at {@code timestampMs}, without recording it. */
  public synchronized Admission admission(long timestampMs) {
    long start = windowStart(timestampMs);
    long now = clock.millis();
    if (timestampMs > now + MAX_CLOCK_AHEAD.toMillis()) {
      return Admission.TOO_FAR_AHEAD;
    }
    if (start < oldestCorrectableStart(now)) {
      return Admission.TOO_OLD;
    }
    return start >= nextCloseMs ? Admission.OPEN : Admission.CORRECTION;
  }

  /** Adds {@code requests} and {@code timeouts} seen by {@code source} for {@code containerId} at {@code timestampMs}. */
  public Admission record(String source, String containerId, long timestampMs, long requests, long timeouts) {
    Admission admission;
    synchronized (this) {
      admission = admission(timestampMs);
      long start = windowStart(timestampMs);
      Key key = new Key(source, containerId);
      Map<Key, Counts> windowCounts = switch (admission) {
        case OPEN -> open.computeIfAbsent(start, s -> new HashMap<>());
        case CORRECTION -> published.computeIfAbsent(start, s -> new HashMap<>());
        default -> null;
      };
      if (windowCounts != null) {
        Counts counts = windowCounts.get(key);
        if (counts == null) {
          admission = makeRoom(start, source);
        }
        if (admission == Admission.OPEN || admission == Admission.CORRECTION) {
          windowCounts.computeIfAbsent(key, k -> new Counts()).add(requests, timeouts);
          if (admission == Admission.CORRECTION) {
            corrected.add(new WindowKey(start, key));
          }
        }
      }
    }
    if (admission == Admission.TOO_OLD) {
      metrics.droppedEvents.labelValues(source, "too_old").inc();
    } else if (admission == Admission.TOO_FAR_AHEAD) {
      metrics.droppedEvents.labelValues(source, "too_far_ahead").inc();
    } else if (admission == Admission.TOO_MANY_CONTAINERS) {
      metrics.droppedEvents.labelValues(source, "too_many_containers").inc();
    } else if (admission == Admission.TOO_MANY_SOURCES) {
      // not the source's own name: the label set stays bounded too
      metrics.droppedEvents.labelValues(OVERFLOW_SOURCE, "too_many_sources").inc();
    }
    return admission;
  }

  /** Counts a new container for {@code source} in the window at {@code start}, unless a bound is reached. */
  private Admission makeRoom(long start, String source) {
    Map<String, Integer> sources = containersPerSource.computeIfAbsent(start, s -> new HashMap<>());
    Integer containers = sources.get(source);
    if (containers == null && sources.size() >= MAX_SOURCES) {
      return Admission.TOO_MANY_SOURCES;
    }
    if (containers != null && containers >= MAX_CONTAINERS_PER_SOURCE) {
      return Admission.TOO_MANY_CONTAINERS;
    }
    sources.merge(source, 1, Integer::sum);
    return start >= nextCloseMs ? Admission.OPEN : Admission.CORRECTION;
  }

  /**
   * Publishes the windows that are over and the corrections of windows published before.
   *
   * @return the number of windows published
   */
  public int tick() {
    synchronized (publishLock) {
      return publish(collectDue(clock.millis(), false));
    }
  }

  /** Publishes every window, over or not; for shutdown. */
  public int closeAll() {
    synchronized (publishLock) {
      return publish(collectDue(clock.millis(), true));
    }
  }

  public synchronized int openWindows() {
    return open.values().stream().mapToInt(Map::size).sum();
  }

  private synchronized List<UpstreamWindow> collectDue(long now, boolean everything) {
    List<UpstreamWindow> due = new ArrayList<>();
    for (WindowKey window : corrected) {
      Counts counts = published.get(window.startMs).get(window.key);
      due.add(window(window.startMs, window.key, counts));
      metrics.corrections.labelValues(window.key.source).inc();
    }
    corrected.clear();
    long closeBefore = everything ? Long.MAX_VALUE : windowStart(now - graceMs);
    while (!open.isEmpty() && open.firstKey() < closeBefore) {
      var entry = open.pollFirstEntry();
      entry.getValue().forEach((key, counts) -> due.add(window(entry.getKey(), key, counts)));
      published.put(entry.getKey(), entry.getValue());
    }
    if (closeBefore > nextCloseMs) {
      nextCloseMs = everything ? windowStart(now) + windowMs : closeBefore;
    }
    published.headMap(oldestCorrectableStart(now)).clear();
    containersPerSource.headMap(oldestCorrectableStart(now)).clear();
    return due;
  }

  private long oldestCorrectableStart(long now) {
    return windowStart(now - correctionHorizonMs);
  }

  private UpstreamWindow window(long startMs, Key key, Counts counts) {
    return UpstreamWindow.newBuilder()
        .setSource(key.source)
        .setContainerId(key.containerId)
        .setHost(host)
        .setWindowStartMs(startMs)
        .setWindowEndMs(startMs + windowMs)
        .setRequests(counts.requests)
        .setTimeouts(counts.timeouts)
        .build();
  }

  // outside the counting lock: a sink may block (Kafka metadata), and sources must keep counting
  // meanwhile; under publishLock, so that a correction is never published before its window
  private int publish(List<UpstreamWindow> windows) {
    for (UpstreamWindow window : windows) {
      sink.publish(window);
      metrics.windows.labelValues(window.getSource()).inc();
    }
    return windows.size();
  }

  private record Key(String source, String containerId) {}

  private record WindowKey(long startMs, Key key) {}

  private static final class Counts {
    long requests;
    long timeouts;

    void add(long moreRequests, long moreTimeouts) {
      requests += moreRequests;
      timeouts += moreTimeouts;
    }
  }
}
