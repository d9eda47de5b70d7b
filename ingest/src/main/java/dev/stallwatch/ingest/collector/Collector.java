package dev.stallwatch.ingest.collector;

import dev.stallwatch.ingest.host.CgroupCpuReader;
import dev.stallwatch.ingest.host.ContainerIdentity;
import dev.stallwatch.ingest.host.ContainerResolver;
import dev.stallwatch.ingest.host.KubeletClient;
import dev.stallwatch.ingest.host.PodRef;
import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.ingest.window.Attribution;
import dev.stallwatch.ingest.window.ContainerRef;
import dev.stallwatch.ingest.window.ProfileWindowAssembler;
import dev.stallwatch.schemas.v1.ProfileWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge collector: perf samples in, one {@link ProfileWindow} per container and aligned window
 * out, to an {@link EventSink}.
 *
 * <p>Each sample is attributed to its container from {@code /proc/PID/cgroup} (the pid, else the
 * thread id) and folded into the window its timestamp falls in. A window is published when the
 * wall clock passes its end plus a grace period that covers perf's pipe latency; a sample that
 * arrives later still is counted as late and dropped, so a window is never published twice. At
 * every window boundary each known container's cgroup CPU counter is read, and the difference to
 * the previous boundary is the CPU of the window between them. Windows carry the pod and namespace
 * from the kubelet (when configured) and the container's Go version, both looked up off the
 * sampling thread.
 *
 * <p>Threads: perf's output is read on one thread ({@link PerfRunner}), windows are closed and
 * cgroups read on another, and the kubelet and executables are read on two more; only the sample
 * path and the closing share the window state, under one lock.
 */
public final class Collector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Collector.class);
  public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
  /** perf's output reaches us within about 0.6 s with its buffers flushed every 250 ms; 2 s leaves room. */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(2);
  public static final Duration DEFAULT_KUBELET_REFRESH = Duration.ofSeconds(30);
  /** Containers without samples this long stop being read and lose their metric series. */
  public static final Duration FORGET_AFTER = Duration.ofMinutes(5);
  private static final long MAX_TICK_MILLIS = 1_000;
  private static final int MAX_LOGGED_READ_ERRORS = 5;
  private static final int PROBE_QUEUE = 1_024;
  private static final int MAX_REFS = 4_096;

  private final String host;
  private final long windowMillis;
  private final long graceMillis;
  private final ContainerResolver resolver;
  private final ContainerCpuTracker cpu; // null when the cgroup hierarchy has no CPU accounting
  private final RuntimeVersions runtimes;
  private final KubeletPodCache pods; // null without a kubelet
  private final Duration kubeletRefresh;
  private final ProfileWindowAssembler assembler;
  private final Attribution.Lookup<ContainerIdentity> lookup;
  // perf's thread only: the ref last made for each container, reused while its pod and runtime stay
  private final Map<ContainerIdentity, ContainerRef> refs = new IdentityHashMap<>();
  private final EventSink sink;
  private final CollectorMetrics metrics;
  private final Clock clock;
  private final PerfSettings perf;
  private final Supplier<PerfPrivileges> privileges;
  private final ThreadPoolExecutor probeExecutor;

  private final Object lock = new Object();
  private long publishedBeforeMs = Long.MIN_VALUE; // guarded by lock: windows starting earlier are out
  private long lastBoundaryMs = Long.MIN_VALUE; // only the closing thread touches it
  private final AtomicLong readErrors = new AtomicLong();

  private PerfRunner runner;
  private Thread windowThread;
  private ScheduledExecutorService kubeletExecutor;
  private final CountDownLatch stopping = new CountDownLatch(1);
  private boolean closed;

  private Collector(Builder builder) {
    this.host = builder.host;
    this.windowMillis = builder.window.toMillis();
    this.graceMillis = builder.grace.toMillis();
    this.resolver = ContainerResolver.builder()
        .procRoot(builder.procRoot)
        .cgroupRoot(builder.cgroupRoot)
        .includeHostProcesses(builder.includeHostProcesses)
        .build();
    this.cpu = openCpuTracker(builder.cgroupRoot, windowMillis);
    this.probeExecutor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(PROBE_QUEUE),
        daemon("stallwatch-buildinfo"), new ThreadPoolExecutor.AbortPolicy());
    this.runtimes = new RuntimeVersions(builder.procRoot, probeExecutor);
    this.pods = builder.kubelet == null ? null : new KubeletPodCache(builder.kubelet);
    this.kubeletRefresh = builder.kubeletRefresh;
    this.assembler = new ProfileWindowAssembler(windowMillis, builder.perf.frequencyHz());
    this.lookup = id -> resolver.resolve(id).orElse(null);
    this.sink = builder.sink;
    this.metrics = builder.metrics != null ? builder.metrics : new CollectorMetrics(new PrometheusRegistry());
    this.clock = builder.clock;
    this.perf = builder.perf;
    this.privileges = builder.privileges;
  }

  public static Builder builder() {
    return new Builder();
  }

  private ContainerCpuTracker openCpuTracker(Path cgroupRoot, long windowMillis) {
    try {
      return new ContainerCpuTracker(CgroupCpuReader.open(cgroupRoot), windowMillis, FORGET_AFTER.toMillis());
    } catch (IOException e) {
      LOG.warn("no cgroup CPU accounting under {}; windows carry no cgroup CPU and the detector falls back to"
          + " samples: {}", cgroupRoot, e.getMessage());
      return null;
    }
  }

  /**
   * Starts perf and the window clock; returns once perf delivers samples.
   *
   * @throws PerfUnavailableException perf is missing or may not sample this host
   */
  public synchronized void start() throws PerfUnavailableException {
    if (runner != null) {
      throw new IllegalStateException("collector already started");
    }
    if (pods != null) {
      kubeletExecutor = Executors.newSingleThreadScheduledExecutor(daemon("stallwatch-kubelet"));
      kubeletExecutor.scheduleWithFixedDelay(this::refreshPods, 0, kubeletRefresh.toMillis(), TimeUnit.MILLISECONDS);
    }
    windowThread = new Thread(this::closeWindowsLoop, "stallwatch-windows");
    windowThread.setDaemon(true);
    windowThread.start();
    runner = PerfRunner.builder(perf, new SampleListener()).privileges(privileges).build();
    try {
      runner.start();
    } catch (PerfUnavailableException | RuntimeException e) {
      stopBackground();
      throw e;
    }
  }

  public CollectorMetrics metrics() {
    return metrics;
  }

  /** Fetches the kubelet's pod list; on the kubelet thread every refresh period, or from tests. */
  void refreshPods() {
    if (pods != null) {
      pods.refresh();
    }
  }

  /** The Go version found for a container so far, or an empty string. */
  String runtimeVersion(String containerId) {
    return runtimes.versionOf(containerId);
  }

  /** Attributes and folds one sample; called on perf's thread. */
  void onSample(PerfSample sample) {
    metrics.sampleRead();
    long sampleMs = Math.floorDiv(sample.timestampNanos(), 1_000_000L);
    metrics.sampleDelay(clock.millis() - sampleMs);
    if (sample.processId() == 0 || sample.tid() == 0) {
      metrics.sampleSkipped(CollectorMetrics.SkipReason.IDLE);
      return;
    }
    ContainerIdentity identity;
    try {
      identity = Attribution.attribute(sample.pid(), sample.tid(), lookup);
    } catch (IOException e) {
      metrics.sampleSkipped(CollectorMetrics.SkipReason.UNREADABLE);
      if (readErrors.incrementAndGet() <= MAX_LOGGED_READ_ERRORS) {
        LOG.warn("cannot attribute a sample of pid {} to a container: {}", sample.processId(), e.getMessage());
      }
      return;
    }
    if (identity == null) {
      metrics.sampleSkipped(CollectorMetrics.SkipReason.NO_CONTAINER);
      return;
    }
    if (cpu != null) {
      cpu.sampled(identity, sampleMs);
    }
    runtimes.sampled(identity, sample.processId());
    ContainerRef ref = currentRef(identity);
    synchronized (lock) {
      if (assembler.windowStart(sampleMs) < publishedBeforeMs) {
        metrics.sampleSkipped(CollectorMetrics.SkipReason.LATE);
        return;
      }
      assembler.add(ref, sample);
    }
  }

  /** {@link #ref} without making a new one per sample: the last one while the pod and runtime are unchanged. */
  private ContainerRef currentRef(ContainerIdentity identity) {
    ContainerRef last = refs.get(identity);
    String version = runtimes.versionOf(identity.containerId());
    if (last != null && last.runtimeVersion().equals(version)
        && (pods == null || samePod(last, pods.podOf(identity)))) {
      return last;
    }
    if (refs.size() >= MAX_REFS) {
      refs.clear(); // identities of exited processes: made again when seen
    }
    ContainerRef ref = ref(identity);
    refs.put(identity, ref);
    return ref;
  }

  private static boolean samePod(ContainerRef ref, Optional<PodRef> pod) {
    return pod.isEmpty() ? ref.pod().isEmpty() && ref.namespace().isEmpty()
        : ref.pod().equals(pod.get().name()) && ref.namespace().equals(pod.get().namespace());
  }

  private ContainerRef ref(ContainerIdentity identity) {
    Optional<PodRef> pod = pods == null ? Optional.empty() : pods.podOf(identity);
    return new ContainerRef(identity.containerId(), host, pod.map(PodRef::name).orElse(""),
        pod.map(PodRef::namespace).orElse(""), runtimes.versionOf(identity.containerId()));
  }

  /**
   * Does what is due at {@code nowMs}: at a new window boundary, reads the containers' cgroup CPU
   * into the window that just ended; then publishes the windows whose end is {@code grace} past.
   * Called by the window thread; tests call it with a clock of their own.
   */
  void tick(long nowMs) {
    long boundary = assembler.windowStart(nowMs);
    if (boundary > lastBoundaryMs) {
      lastBoundaryMs = boundary;
      if (cpu != null) {
        List<ContainerCpuTracker.WindowCpu> readings = cpu.readAt(boundary, nowMs);
        synchronized (lock) {
          for (ContainerCpuTracker.WindowCpu reading : readings) {
            if (reading.windowStartMs() >= publishedBeforeMs) {
              assembler.addCgroupCpu(ref(reading.container()), reading.windowStartMs(), reading.cpuNanos());
            }
          }
        }
      }
      for (String gone : metrics.forgetIdle(boundary - FORGET_AFTER.toMillis())) {
        runtimes.forget(gone);
      }
    }
    long publishBefore = assembler.windowStart(nowMs - graceMillis);
    List<ProfileWindow> due;
    synchronized (lock) {
      if (publishBefore <= publishedBeforeMs) {
        return;
      }
      due = assembler.drainBefore(publishBefore);
      publishedBeforeMs = publishBefore;
    }
    publish(due);
  }

  private void publish(List<ProfileWindow> windows) {
    for (ProfileWindow window : windows) {
      try {
        sink.publish(window);
        metrics.windowPublished(window);
      } catch (RuntimeException e) {
        metrics.publishFailed();
        LOG.error("could not publish the window of {} at {}: {}", window.getContainerId(), window.getWindowStartMs(),
            e.getMessage(), e);
      }
    }
  }

  private void closeWindowsLoop() {
    try {
      while (stopping.getCount() > 0) {
        long now = clock.millis();
        try {
          tick(now);
        } catch (RuntimeException e) {
          // one bad tick (an unreadable cgroup file, a sink error) must not stop the windows
          LOG.error("closing windows failed; trying again at the next tick", e);
        }
        stopping.await(untilNextDue(clock.millis()), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Milliseconds to the next window boundary or publishing time, at most a second. */
  long untilNextDue(long nowMs) {
    long start = assembler.windowStart(nowMs);
    long next = start + windowMillis;
    if (start + graceMillis > nowMs) {
      next = Math.min(next, start + graceMillis);
    }
    return Math.max(1, Math.min(MAX_TICK_MILLIS, next - nowMs));
  }

  /**
   * Stops perf, waits for its last samples, publishes every window still open (the last ones
   * partly filled) and flushes the sink. The sink itself is not closed: its owner closes it.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (runner != null) {
      runner.close();
    }
    stopBackground();
    List<ProfileWindow> rest;
    synchronized (lock) {
      rest = assembler.drainAll();
      publishedBeforeMs = Long.MAX_VALUE;
    }
    publish(rest);
    sink.flush();
  }

  private void stopBackground() {
    stopping.countDown();
    if (windowThread != null) {
      try {
        windowThread.join(MAX_TICK_MILLIS * 5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (kubeletExecutor != null) {
      kubeletExecutor.shutdownNow();
    }
    probeExecutor.shutdownNow();
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private final class SampleListener implements PerfRunner.Listener {
    @Override
    public void onSample(PerfSample sample) {
      Collector.this.onSample(sample);
    }

    @Override
    public void onMalformedLines(long count) {
      metrics.parseErrors(count);
    }

    @Override
    public void onRestart() {
      metrics.perfRestarted();
    }
  }

  /** Options of {@link Collector}; {@link #host} and {@link #sink} are required. */
  public static final class Builder {
    private String host;
    private Path procRoot = ContainerResolver.DEFAULT_PROC_ROOT;
    private Path cgroupRoot = ContainerResolver.DEFAULT_CGROUP_ROOT;
    private boolean includeHostProcesses;
    private PerfSettings perf = PerfSettings.defaults();
    private Duration window = DEFAULT_WINDOW;
    private Duration grace = DEFAULT_GRACE;
    private KubeletClient kubelet;
    private Duration kubeletRefresh = DEFAULT_KUBELET_REFRESH;
    private EventSink sink;
    private CollectorMetrics metrics;
    private Clock clock = Clock.systemUTC();
    private Supplier<PerfPrivileges> privileges = PerfPrivileges::current;

    private Builder() {}

    /** The host name windows carry; the node name in Kubernetes. */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    public Builder procRoot(Path procRoot) {
      this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
      return this;
    }

    public Builder cgroupRoot(Path cgroupRoot) {
      this.cgroupRoot = Objects.requireNonNull(cgroupRoot, "cgroupRoot");
      return this;
    }

    /** Attribute processes outside containers to pseudo-containers {@code cgroup:<path>}. */
    public Builder includeHostProcesses(boolean includeHostProcesses) {
      this.includeHostProcesses = includeHostProcesses;
      return this;
    }

    public Builder perf(PerfSettings perf) {
      this.perf = Objects.requireNonNull(perf, "perf");
      return this;
    }

    public Builder window(Duration window) {
      this.window = Objects.requireNonNull(window, "window");
      return this;
    }

    /** How long after a window's end its samples may still arrive. */
    public Builder grace(Duration grace) {
      this.grace = Objects.requireNonNull(grace, "grace");
      return this;
    }

    /** Names pods from the kubelet's pod list, fetched every {@code refresh}. */
    public Builder kubelet(KubeletClient kubelet, Duration refresh) {
      this.kubelet = Objects.requireNonNull(kubelet, "kubelet");
      this.kubeletRefresh = Objects.requireNonNull(refresh, "refresh");
      return this;
    }

    public Builder sink(EventSink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /** Metrics to update; by default the collector registers its own on a fresh registry. */
    public Builder metrics(CollectorMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where a perf refusal is explained from; this process's {@code /proc/self} by default. */
    public Builder privileges(Supplier<PerfPrivileges> privileges) {
      this.privileges = Objects.requireNonNull(privileges, "privileges");
      return this;
    }

    public Collector build() {
      if (host == null || host.isBlank()) {
        throw new IllegalStateException("no host name: set the name windows carry (the node name in Kubernetes)");
      }
      if (sink == null) {
        throw new IllegalStateException("no sink: give the collector an EventSink (Kafka, spool or dry-run output)");
      }
      if (window.toMillis() < 1) {
        throw new IllegalArgumentException("window must be at least 1 ms, got " + window);
      }
      if (grace.isNegative() || grace.compareTo(window) >= 0) {
        throw new IllegalArgumentException("grace must be at least 0 and shorter than the window (" + window + "), got " + grace);
      }
      if (kubelet != null && (kubeletRefresh.isZero() || kubeletRefresh.isNegative())) {
        throw new IllegalArgumentException("kubelet refresh must be positive, got " + kubeletRefresh);
      }
      return new Collector(this);
    }
  }
}
