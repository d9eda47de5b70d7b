package dev.stallwatch.ingest.collector;

import dev.stallwatch.ingest.host.CgroupCpuReader;
import dev.stallwatch.ingest.host.ContainerIdentity;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CPU time per container and window from the containers' cgroups: each known container's counter
 * is read at every window boundary, and the difference between two boundaries is the CPU the
 * container used in the window between them. A container's first window (seen mid-window, no
 * reading at its start) gets no figure rather than a partial one.
 */
final class ContainerCpuTracker {
  private static final Logger LOG = LoggerFactory.getLogger(ContainerCpuTracker.class);
  /** 1 s late is 10% of a 10 s window: beyond that the figure would mislead more than help. */
  static final long MAX_READ_DELAY_MS = 1_000;

  /** CPU a container used in the window {@code [windowStartMs, windowStartMs + window)}. */
  record WindowCpu(ContainerIdentity container, long windowStartMs, long cpuNanos) {}

  private final CgroupCpuReader reader;
  private final long windowMillis;
  private final long forgetAfterMillis;
  private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();

  private static final class Tracked {
    final ContainerIdentity container;
    volatile long lastSampleMs;
    long readingNanos = -1; // at boundaryMs; -1 before the first reading
    long boundaryMs;
    boolean onTime; // read close enough to boundaryMs to stand for it
    boolean warned;

    Tracked(ContainerIdentity container, long lastSampleMs) {
      this.container = container;
      this.lastSampleMs = lastSampleMs;
    }
  }

  /**
   * @param forgetAfterMillis a container without samples for this long is no longer read (its
   *     cgroup may live on, idle or reused); it is tracked again when it is sampled again
   */
  ContainerCpuTracker(CgroupCpuReader reader, long windowMillis, long forgetAfterMillis) {
    this.reader = reader;
    this.windowMillis = windowMillis;
    this.forgetAfterMillis = forgetAfterMillis;
  }

  /** Called on the sampling path: cheap, no I/O. */
  void sampled(ContainerIdentity container, long sampleMs) {
    Tracked entry = tracked.get(container.containerId());
    if (entry == null) {
      tracked.putIfAbsent(container.containerId(), new Tracked(container, sampleMs));
    } else if (sampleMs > entry.lastSampleMs) {
      entry.lastSampleMs = sampleMs;
    }
  }

  /**
   * Reads every tracked container for the window boundary {@code boundaryMs} (now being
   * {@code nowMs}) and returns the CPU of the window that ends there, for containers read at its
   * start too. A reading more than {@link #MAX_READ_DELAY_MS} after its boundary (a stalled JVM, a
   * suspended host) yields no figure for the windows on either side of it.
   */
  List<WindowCpu> readAt(long boundaryMs, long nowMs) {
    boolean onTime = nowMs - boundaryMs <= MAX_READ_DELAY_MS;
    List<WindowCpu> out = new ArrayList<>();
    for (Iterator<Tracked> it = tracked.values().iterator(); it.hasNext(); ) {
      Tracked entry = it.next();
      if (boundaryMs - entry.lastSampleMs > forgetAfterMillis) {
        it.remove();
        continue;
      }
      OptionalLong nanos;
      try {
        nanos = reader.cpuNanos(entry.container.cgroupPath());
      } catch (IOException e) {
        if (!entry.warned) {
          entry.warned = true;
          LOG.warn("cannot read the CPU of {} (cgroup {}); its windows carry no cgroup CPU: {}",
              entry.container.containerId(), entry.container.cgroupPath(), e.getMessage());
        }
        entry.readingNanos = -1;
        continue;
      }
      if (nanos.isEmpty()) {
        it.remove(); // the cgroup is gone with its container
        continue;
      }
      long now = nanos.getAsLong();
      if (entry.readingNanos >= 0 && entry.onTime && onTime && entry.boundaryMs == boundaryMs - windowMillis) {
        // a counter below the last reading restarted (cgroup recreated under the same path)
        long used = now >= entry.readingNanos ? now - entry.readingNanos : now;
        out.add(new WindowCpu(entry.container, entry.boundaryMs, used));
      }
      entry.readingNanos = now;
      entry.boundaryMs = boundaryMs;
      entry.onTime = onTime;
    }
    return out;
  }

  int trackedContainers() {
    return tracked.size();
  }
}
