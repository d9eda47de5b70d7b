package dev.stallwatch.ingest.window;

import dev.stallwatch.ingest.perf.FrameTable;
import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.perf.StackCounter;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.RuntimeInfo;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.WeightUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Folds samples into one {@link ProfileWindow} per host, container and aligned window.
 *
 * <p>Windows are aligned to the epoch ({@code start = floor(t / size) * size}), so that windows
 * from different hosts and sources line up without coordination. A sample weighs its period
 * when perf reported one for a clock event (nanoseconds of CPU), else {@code 1e9 / frequency}.
 * Samples may arrive in any order and from any number of files: the result is the same.
 *
 * <p>A sample's stack stays an array of {@link FrameTable} ids until its window is built: adding
 * a sample to the window its container is already filling allocates nothing.
 */
public final class ProfileWindowAssembler {
  private final long windowMillis;
  private final double frequencyHz;
  private final long nanosPerSample;
  // (host, container, window start) -> the window being built; sorted so output is deterministic
  private final TreeMap<WindowKey, WindowBuilder> windows = new TreeMap<>();
  // the window each container ref filled last: found without a key object per sample
  private final Map<ContainerRef, WindowBuilder> recent = new IdentityHashMap<>();

  public ProfileWindowAssembler(long windowMillis, double frequencyHz) {
    if (windowMillis <= 0) {
      throw new IllegalArgumentException("window size must be positive, got " + windowMillis + " ms");
    }
    if (!(frequencyHz > 0)) {
      throw new IllegalArgumentException("sample frequency must be positive, got " + frequencyHz + " Hz");
    }
    this.windowMillis = windowMillis;
    this.frequencyHz = frequencyHz;
    this.nanosPerSample = Math.round(1e9 / frequencyHz);
  }

  public long windowStart(long epochMillis) {
    return Math.floorDiv(epochMillis, windowMillis) * windowMillis;
  }

  /** Adds one sample attributed to {@code container}. */
  public void add(ContainerRef container, PerfSample sample) {
    long startMs = windowStart(Math.floorDiv(sample.timestampNanos(), 1_000_000L));
    WindowBuilder window = recent.get(container);
    if (window == null || window.startMs != startMs) {
      window = window(container, startMs);
      recent.put(container, window);
    }
    if (window.frames == null) {
      window.frames = sample.frameTable();
    } else if (window.frames != sample.frameTable()) {
      throw new IllegalArgumentException("the samples of one window must be named by one FrameTable");
    }
    window.stacks.add(sample.processFrame(), sample.frames(), sample.depth(), weightNanos(sample));
    window.samples++;
  }

  /** Records the CPU time the container's cgroup used in the window that starts at {@code windowStartMs}. */
  public void addCgroupCpu(ContainerRef container, long windowStartMs, long cpuNanos) {
    WindowBuilder window = window(container, windowStart(windowStartMs));
    window.cgroupCpuNs = (window.cgroupCpuNs == null ? 0 : window.cgroupCpuNs) + cpuNanos;
  }

  private long weightNanos(PerfSample sample) {
    String event = sample.event();
    boolean clockEvent = event.equals("cpu-clock") || event.equals("task-clock");
    return clockEvent && sample.period() > 0 ? sample.period() : nanosPerSample;
  }

  /** Emits every window built so far, oldest first, and forgets them. */
  public List<ProfileWindow> drainAll() {
    return drainBefore(Long.MAX_VALUE);
  }

  /** Emits the windows that start before {@code windowStartMs}, oldest first, and forgets them. */
  public List<ProfileWindow> drainBefore(long windowStartMs) {
    List<ProfileWindow> out = new ArrayList<>();
    recent.clear();
    // keys sort by window start first, so the windows to emit are a prefix of the map
    var iterator = windows.entrySet().iterator();
    while (iterator.hasNext()) {
      var entry = iterator.next();
      if (entry.getKey().startMs >= windowStartMs) {
        break;
      }
      out.add(entry.getValue().build());
      iterator.remove();
    }
    return out;
  }

  public int openWindows() {
    return windows.size();
  }

  private WindowBuilder window(ContainerRef container, long startMs) {
    WindowKey key = new WindowKey(container.host(), container.containerId(), startMs);
    return windows.computeIfAbsent(key, k -> new WindowBuilder(container, startMs));
  }

  private record WindowKey(String host, String containerId, long startMs) implements Comparable<WindowKey> {
    private static final Comparator<WindowKey> ORDER = Comparator.comparingLong(WindowKey::startMs)
        .thenComparing(WindowKey::host)
        .thenComparing(WindowKey::containerId);

    @Override
    public int compareTo(WindowKey other) {
      return ORDER.compare(this, other);
    }
  }

  /** One distinct stack of a window, named. */
  private record NamedStack(String[] frames, String text, long weight, long samples) {}

  private final class WindowBuilder {
    private final ContainerRef container;
    private final long startMs;
    private final StackCounter stacks = new StackCounter(); // process frame, then frames root first
    private FrameTable frames; // of the samples' reader
    private Long cgroupCpuNs;
    private long samples;

    WindowBuilder(ContainerRef container, long startMs) {
      this.container = container;
      this.startMs = startMs;
    }

    ProfileWindow build() {
      ProfileWindow.Builder window = ProfileWindow.newBuilder()
          .setHost(container.host())
          .setContainerId(container.containerId())
          .setPod(container.pod())
          .setNamespace(container.namespace())
          .setWindowStartMs(startMs)
          .setWindowEndMs(startMs + windowMillis)
          .setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS)
          .setSampleCount(samples)
          .setSampleFrequencyHz(frequencyHz)
          .addStrings("");
      if (!container.runtimeVersion().isEmpty()) {
        window.setRuntime(RuntimeInfo.newBuilder()
            .setName(container.runtimeVersion().startsWith("go") ? "go" : "")
            .setVersion(container.runtimeVersion()));
      }
      if (cgroupCpuNs != null) {
        window.setCgroupCpuNs(cgroupCpuNs);
      }
      // Heaviest stacks first; ties by text so the bytes are reproducible.
      List<NamedStack> sorted = new ArrayList<>(stacks.size());
      for (int id = 0; id < stacks.size(); id++) {
        int[] sequence = stacks.sequence(id);
        String[] names = new String[sequence.length];
        for (int i = 0; i < sequence.length; i++) {
          names[i] = frames.name(sequence[i]);
        }
        sorted.add(new NamedStack(names, String.join(";", names), stacks.count(id), stacks.samples(id)));
      }
      sorted.sort(Comparator.comparingLong((NamedStack e) -> -e.weight()).thenComparing(NamedStack::text));
      Map<String, Integer> index = new HashMap<>();
      long total = 0;
      for (NamedStack entry : sorted) {
        Stack.Builder stack = Stack.newBuilder().setWeight(entry.weight()).setSamples(entry.samples());
        for (String frame : entry.frames()) {
          Integer i = index.get(frame);
          if (i == null) {
            i = window.getStringsCount();
            index.put(frame, i);
            window.addStrings(frame);
          }
          stack.addFrames(i);
        }
        window.addStacks(stack);
        total += entry.weight();
      }
      return window.setTotalWeight(total).build();
    }
  }
}
