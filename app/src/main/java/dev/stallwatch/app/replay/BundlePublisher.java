package dev.stallwatch.app.replay;

import dev.stallwatch.ingest.collector.CollectorMetrics;
import dev.stallwatch.ingest.perf.FrameTable;
import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.perf.PerfScriptReader;
import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.ingest.publish.WindowManifests;
import dev.stallwatch.ingest.upstream.UpstreamMetrics;
import dev.stallwatch.ingest.window.AlignedWindows;
import dev.stallwatch.ingest.window.Attribution;
import dev.stallwatch.ingest.window.ContainerRef;
import dev.stallwatch.ingest.window.ProfileWindowAssembler;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Publishes a bundle through the collector's own code path: perf text → {@link PerfSample} →
 * container ({@link Attribution}) → {@link ProfileWindowAssembler} → {@link ProfileWindow} → Kafka; the CSV files
 * become {@link UpstreamWindow}s and {@link TrafficEvent}s. One instance per bundle. Given the
 * collector's {@link CollectorMetrics} and {@link UpstreamMetrics}, it counts what it reads and
 * publishes there as a collector would, so that {@code stallwatch demo --serve} exports the collector's series.
 */
public final class BundlePublisher {
  /** The host of window manifests for upstream windows of containers the bundle does not place. */
  static final String REPLAY_HOST = "replay";
  /** What went in, for the log. */
  public record Stats(long samples, long unattributedSamples, long otherEventSamples, long malformedLines,
                      long profileWindows, long upstreamWindows, long trafficEvents, long perfBytes) {}

  private final long windowMillis;
  private final CollectorMetrics metrics;
  private final UpstreamMetrics upstreamMetrics;
  private long samples;
  private long unattributed;
  private long otherEvents;
  private long malformed;
  private long perfBytes;
  private long lastDataMs = Long.MIN_VALUE;

  public BundlePublisher(long windowMillis) {
    this(windowMillis, null, null);
  }

  /**
   * @param metrics where to count samples, skips, parse errors and profile windows; null for nowhere
   * @param upstreamMetrics where to count the upstream rows and windows, as the source
   *     {@value ReplayBundle#UPSTREAM_SOURCE}; null for nowhere
   */
  public BundlePublisher(long windowMillis, CollectorMetrics metrics, UpstreamMetrics upstreamMetrics) {
    this.windowMillis = windowMillis;
    this.metrics = metrics;
    this.upstreamMetrics = upstreamMetrics;
  }

  /** Folds the whole bundle into windows; the result does not depend on file order or splits. */
  public List<ProfileWindow> profileWindows(ReplayBundle bundle) {
    FrameTable frames = new FrameTable(); // one for every file: a window may hold samples of several
    ProfileWindowAssembler assembler = new ProfileWindowAssembler(windowMillis, bundle.sampleFrequencyHz());
    for (Map.Entry<String, List<Path>> host : bundle.perfFilesByHost().entrySet()) {
      for (Path file : host.getValue()) {
        readPerfFile(bundle, host.getKey(), file, assembler, frames);
      }
    }
    Map<String, ContainerRef> byId = bundle.containersById();
    for (ReplayBundle.CpuRow row : bundle.cpu()) {
      ContainerRef container = byId.getOrDefault(row.containerId(), new ContainerRef(row.containerId(), "", "", "", ""));
      for (AlignedWindows.Share share : AlignedWindows.split(row.windowStartMs(), row.windowEndMs(), windowMillis)) {
        assembler.addCgroupCpu(container, share.startMs(), Math.round(row.cpuSeconds() * share.fraction() * 1e9));
      }
    }
    List<ProfileWindow> windows = assembler.drainAll();
    windows.forEach(w -> seen(w.getWindowEndMs()));
    return windows;
  }

  public Stats publish(ReplayBundle bundle, EventSink sink) {
    // the completeness signal a collector on each host sends, after the windows it lists
    Map<String, WindowManifests> manifests = new TreeMap<>();
    Clock end = Clock.fixed(Instant.ofEpochMilli(Long.MAX_VALUE / 2), ZoneOffset.UTC);
    EventSink publisher = new EventSink() {
      private WindowManifests of(String host) {
        return manifests.computeIfAbsent(host.isEmpty() ? REPLAY_HOST : host, h -> new WindowManifests(sink, h,
            Duration.ofMillis(windowMillis), Duration.ZERO, WindowManifests.DEFAULT_KEEP_REPORTING, end));
      }

      @Override
      public void publish(ProfileWindow window) {
        of(window.getHost()).publish(window);
      }

      @Override
      public void publish(UpstreamWindow window) {
        of(window.getHost()).publish(window);
      }

      @Override
      public void publish(TrafficEvent event) {
        sink.publish(event);
      }

      @Override
      public void flush() {
        manifests.values().forEach(WindowManifests::finish);
        sink.flush();
      }

      @Override
      public void close() {
        throw new UnsupportedOperationException("the caller owns the sink");
      }
    };
    List<ProfileWindow> windows = profileWindows(bundle);
    Map<String, ContainerRef> byId = bundle.containersById();
    for (ProfileWindow window : windows) {
      publisher.publish(window);
      if (metrics != null) {
        metrics.windowPublished(window);
      }
    }
    List<UpstreamWindow> upstream = alignedUpstream(bundle.upstream());
    if (upstreamMetrics != null) {
      upstreamMetrics.source(ReplayBundle.UPSTREAM_SOURCE);
      upstreamMetrics.linesRead(ReplayBundle.UPSTREAM_SOURCE, bundle.upstream().size());
    }
    for (UpstreamWindow window : upstream) {
      ContainerRef container = byId.get(window.getContainerId());
      publisher.publish(container == null ? window : window.toBuilder().setHost(container.host()).build());
      seen(window.getWindowEndMs());
      if (upstreamMetrics != null) {
        upstreamMetrics.windowPublished(ReplayBundle.UPSTREAM_SOURCE);
      }
    }
    for (TrafficEvent event : bundle.traffic()) {
      publisher.publish(event);
      seen(event.getTimestampMs());
    }
    publisher.flush();
    return new Stats(samples, unattributed, otherEvents, malformed, windows.size(), upstream.size(),
        bundle.traffic().size(), perfBytes);
  }

  /**
   * One upstream window per container and aligned window, as a collector publishes them: rows of
   * other lengths or alignments are spread by overlap, and rows that land in the same window add
   * up (the detector keeps only the last window per source and window, as a redelivery).
   */
  List<UpstreamWindow> alignedUpstream(List<UpstreamWindow> rows) {
    Map<String, Map<Long, long[]>> counts = new TreeMap<>(); // container -> window start -> {requests, timeouts}
    for (UpstreamWindow row : rows) {
      List<AlignedWindows.Share> shares = AlignedWindows.split(row.getWindowStartMs(), row.getWindowEndMs(), windowMillis);
      long[] requests = AlignedWindows.apportion(row.getRequests(), shares);
      long[] timeouts = AlignedWindows.capped(AlignedWindows.apportion(row.getTimeouts(), shares), requests);
      Map<Long, long[]> windows = counts.computeIfAbsent(row.getContainerId(), k -> new TreeMap<>());
      for (int i = 0; i < shares.size(); i++) {
        long[] acc = windows.computeIfAbsent(shares.get(i).startMs(), k -> new long[2]);
        acc[0] += requests[i];
        acc[1] += timeouts[i];
      }
    }
    List<UpstreamWindow> aligned = new ArrayList<>();
    counts.forEach((container, windows) -> windows.forEach((start, acc) -> aligned.add(UpstreamWindow.newBuilder()
        .setSource(ReplayBundle.UPSTREAM_SOURCE).setContainerId(container)
        .setWindowStartMs(start).setWindowEndMs(start + windowMillis)
        .setRequests(acc[0]).setTimeouts(acc[1]).build())));
    aligned.sort(Comparator.comparingLong(UpstreamWindow::getWindowStartMs).thenComparing(UpstreamWindow::getContainerId));
    return aligned;
  }

  /** The end of the bundle's data: the latest window end or event time published. */
  public Instant lastDataTime() {
    return lastDataMs == Long.MIN_VALUE ? Instant.EPOCH : Instant.ofEpochMilli(lastDataMs);
  }

  private void seen(long epochMillis) {
    lastDataMs = Math.max(lastDataMs, epochMillis);
  }

  private void readPerfFile(ReplayBundle bundle, String host, Path file, ProfileWindowAssembler assembler,
      FrameTable frames) {
    Map<ReplayBundle.HostPid, ContainerRef> containers = bundle.containers();
    Attribution.Lookup<ContainerRef> lookup = id -> containers.get(new ReplayBundle.HostPid(host, id));
    try (InputStream in = Files.newInputStream(file)) {
      PerfScriptReader reader = new PerfScriptReader(in, frames);
      String[] firstEvent = {null};
      reader.read(sample -> {
        samples++;
        if (metrics != null) {
          metrics.sampleRead();
        }
        // like `stallwatch fold`, a file's first event type is the one that counts as CPU
        if (firstEvent[0] == null) {
          firstEvent[0] = sample.event();
        } else if (!firstEvent[0].equals(sample.event())) {
          otherEvents++;
          return;
        }
        ContainerRef container;
        try {
          // containers.csv may list perf's pid or its tid
          container = Attribution.attribute(sample.pid(), sample.tid(), lookup);
        } catch (IOException e) {
          throw new IllegalStateException(e); // a map look-up does not fail
        }
        if (container == null) {
          unattributed++;
          if (metrics != null) {
            metrics.sampleSkipped(CollectorMetrics.SkipReason.NO_CONTAINER);
          }
          return;
        }
        assembler.add(container, sample);
      });
      malformed += reader.malformedLines();
      if (metrics != null) {
        metrics.parseErrors(reader.malformedLines());
      }
      perfBytes += Files.size(file);
    } catch (IOException e) {
      throw new BundleException(file, "cannot read perf script text: " + e.getMessage(), e);
    }
  }
}
