package dev.stallwatch.ingest.publish;

import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's completeness signal: a sink in front of the real one that notes what goes
 * through it and, once a window is over (its end plus {@code delay}, longer than every
 * component's grace), sends one {@link WindowManifest} per container saying what this host
 * published for it in that window. The detector evaluates the window as soon as every host's
 * manifest and what it lists have arrived, instead of waiting for the event-time watermark.
 *
 * <p>Containers this host reported within the last {@code keepReporting} get a manifest even for
 * a window with nothing in it, so that "nothing from this host" is known at once too (a drained
 * container's proxy sends no upstream window). A profile or upstream window published after its
 * window's manifest (a component behind by more than {@code delay}, or an upstream correction) is
 * still sent, and counted in {@link #latePublications()}: the detector may have judged that
 * window without it.
 *
 * <p>Thread-safe: the collector's components publish from their own threads; {@link #tick()}
 * runs on the caller's thread (the collector's timer, or {@link #startTimer()}).
 */
public final class WindowManifests implements EventSink {
  private static final Logger LOG = LoggerFactory.getLogger(WindowManifests.class);

  /** Collector grace (2 s) plus a second for its publishing tick. */
  public static final Duration DEFAULT_DELAY = Duration.ofSeconds(3);
  /** As long as the detector waits before it calls a silent container gone (resolve.silence). */
  public static final Duration DEFAULT_KEEP_REPORTING = Duration.ofMinutes(5);
  /** Bounds the state: windows further ahead than this of the clock are not noted. */
  private static final Duration MAX_AHEAD = Duration.ofMinutes(1);

  private final EventSink sink;
  private final String host;
  private final Clock clock;
  private final long windowMs;
  private final long delayMs;
  private final long keepReportingMs;
  private final Object lock = new Object();
  // guarded by lock: window start -> container -> what was published
  private final TreeMap<Long, Map<String, Published>> open = new TreeMap<>();
  // guarded by lock: container -> start of the latest window with something published
  private final Map<String, Long> lastReported = new HashMap<>();
  // guarded by lock: windows starting before this have had their manifests sent
  private long sentBeforeMs = Long.MIN_VALUE;
  private final AtomicLong manifestsSent = new AtomicLong();
  private final AtomicLong latePublications = new AtomicLong();
  private volatile Thread timer;
  private volatile boolean closed;

  private static final class Published {
    boolean profile;
    final TreeSet<String> upstreamSources = new TreeSet<>();
  }

  public WindowManifests(EventSink sink, String host, Duration window, Duration delay, Duration keepReporting,
      Clock clock) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.host = Objects.requireNonNull(host, "host");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.windowMs = window.toMillis();
    this.delayMs = delay.toMillis();
    this.keepReportingMs = keepReporting.toMillis();
    if (host.isBlank()) {
      throw new IllegalArgumentException("a window manifest names its host: give a host name");
    }
    if (windowMs <= 0) {
      throw new IllegalArgumentException("window must be positive, got " + window);
    }
    if (delayMs < 0 || delayMs >= windowMs) {
      throw new IllegalArgumentException("manifest delay must be at least 0 and shorter than the window ("
          + window + "), got " + delay);
    }
    if (keepReportingMs < windowMs) {
      throw new IllegalArgumentException("keep-reporting must be at least one window (" + window + "), got "
          + keepReporting);
    }
  }

  public WindowManifests(EventSink sink, String host, Duration window) {
    this(sink, host, window, DEFAULT_DELAY, DEFAULT_KEEP_REPORTING, Clock.systemUTC());
  }

  @Override
  public void publish(ProfileWindow window) {
    note(window.getContainerId(), window.getWindowStartMs(), null);
    sink.publish(window);
  }

  @Override
  public void publish(UpstreamWindow window) {
    note(window.getContainerId(), window.getWindowStartMs(), window.getSource());
    sink.publish(window);
  }

  @Override
  public void publish(TrafficEvent event) {
    sink.publish(event); // an event, not a window: nothing to wait for
  }

  @Override
  public void publish(WindowManifest manifest) {
    sink.publish(manifest);
  }

  /** Sends the manifests of every window whose end plus the delay has passed. */
  public void tick() {
    sendBefore(windowStart(clock.millis() - delayMs), true);
  }

  /** Runs {@link #tick()} on a daemon thread of its own, when each window is due, until {@link #close()}. */
  public void startTimer() {
    Thread t = new Thread(() -> {
      while (!closed) {
        try {
          tick();
          // wake when the next window is due, not on a coarse period: every millisecond here is paging delay
          long now = clock.millis();
          long due = windowStart(now - delayMs) + windowMs + delayMs;
          Thread.sleep(Math.max(1, Math.min(1000, due - now)));
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          // the sink's own failure handling (spool, counters) applies; try again next round
          LOG.warn("could not send window manifests: {}", e.toString());
        }
      }
    }, "stallwatch-window-manifests");
    t.setDaemon(true);
    timer = t;
    t.start();
  }

  public long manifestsSent() {
    return manifestsSent.get();
  }

  /** Profile or upstream windows published after their window's manifest was sent. */
  public long latePublications() {
    return latePublications.get();
  }

  @Override
  public void flush() {
    sink.flush();
  }

  /** Sends the manifests of every window noted so far (the collector stopped), then closes the sink. */
  @Override
  public void close() {
    try {
      finish();
    } finally {
      sink.close();
    }
  }

  /**
   * Stops the timer and sends the manifests of every window noted so far, from the oldest (a
   * replay's whole bundle), without closing the sink.
   */
  public void finish() {
    closed = true;
    Thread t = timer;
    if (t != null) {
      t.interrupt();
      try {
        t.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Long last;
    synchronized (lock) {
      last = open.isEmpty() ? null : open.lastKey();
    }
    if (last != null) {
      sendBefore(last + windowMs, false);
    }
  }

  private void note(String containerId, long windowStart, String upstreamSource) {
    long start = windowStart(windowStart);
    synchronized (lock) {
      if (start < sentBeforeMs) {
        latePublications.incrementAndGet();
        return;
      }
      if (start > clock.millis() + MAX_AHEAD.toMillis()) {
        return; // a bad timestamp: the watermark handles it
      }
      Published p = open.computeIfAbsent(start, s -> new HashMap<>()).computeIfAbsent(containerId, c -> new Published());
      if (upstreamSource == null) {
        p.profile = true;
      } else {
        p.upstreamSources.add(upstreamSource);
      }
    }
  }

  /** @param live true: at most keep-reporting back (a record with an old timestamp walks no years of windows) */
  private void sendBefore(long before, boolean live) {
    List<WindowManifest> due = new ArrayList<>();
    synchronized (lock) {
      if (before <= sentBeforeMs) {
        return;
      }
      // from the first window not yet sent: the oldest noted one, else the one right after the last sent
      long from = sentBeforeMs == Long.MIN_VALUE
          ? (open.isEmpty() ? before : Math.min(open.firstKey(), before))
          : sentBeforeMs;
      if (live) {
        from = Math.max(from, before - keepReportingMs);
      }
      for (long start = from; start < before; start += windowMs) {
        Map<String, Published> published = open.remove(start);
        if (published == null) {
          published = Map.of();
        }
        for (Map.Entry<String, Published> e : published.entrySet()) {
          lastReported.put(e.getKey(), start);
        }
        for (Iterator<Map.Entry<String, Long>> it = lastReported.entrySet().iterator(); it.hasNext(); ) {
          Map.Entry<String, Long> reported = it.next();
          if (start - reported.getValue() >= keepReportingMs) {
            it.remove();
            continue;
          }
          Published p = published.get(reported.getKey());
          WindowManifest.Builder m = WindowManifest.newBuilder()
              .setHost(host).setContainerId(reported.getKey())
              .setWindowStartMs(start).setWindowEndMs(start + windowMs);
          if (p != null) {
            m.setProfile(p.profile).addAllUpstreamSources(p.upstreamSources);
          }
          due.add(m.build());
        }
      }
      sentBeforeMs = before;
      // a clock that jumped back leaves nothing behind to grow
      open.headMap(before).clear();
    }
    for (WindowManifest m : due) {
      sink.publish(m);
      manifestsSent.incrementAndGet();
    }
  }

  private long windowStart(long ms) {
    return Math.floorDiv(ms, windowMs) * windowMs;
  }
}
