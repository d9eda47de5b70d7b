package dev.stallwatch.ingest.window;

import dev.stallwatch.ingest.perf.FoldedFormat;
import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.RuntimeInfo;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.WeightUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
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
 */
public final class ProfileWindowAssembler {
  private final long windowMillis;
  private final double frequencyHz;
  private final long nanosPerSample;
  // (host, container, window start) -> the window being built; sorted so output is deterministic
  private final TreeMap<WindowKey, WindowBuilder> windows = new TreeMap<>();
  private final Map<String, String> frameIntern = new HashMap<>();

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
    WindowBuilder window = window(container, startMs);
    String[] stack = new String[sample.frames().size() + 1];
    stack[0] = intern(FoldedFormat.processFrame(sample.comm()));
    for (int i = 0; i < sample.frames().size(); i++) {
      stack[i + 1] = intern(sample.frames().get(i));
    }
    window.add(stack, weightNanos(sample));
  }

  /** Records the CPU time the container's cgroup used in the window that starts at {@code windowStartMs}. */
  public void addCgroupCpu(ContainerRef container, long windowStartMs, long cpuNanos) {
    WindowBuilder window = window(container, windowStart(windowStartMs));
    window.cgroupCpuNs = (window.cgroupCpuNs == null ? 0 : window.cgroupCpuNs) + cpuNanos;
  }

  public long weightNanos(PerfSample sample) {
    boolean clockEvent = sample.event().equals("cpu-clock") || sample.event().equals("task-clock");
    return clockEvent && sample.period() > 0 ? sample.period() : nanosPerSample;
  }

  /** Emits every window built so far, oldest first, and forgets them. */
  public List<ProfileWindow> drainAll() {
    return drainBefore(Long.MAX_VALUE);
  }

  /** Emits the windows that start before {@code windowStartMs}, oldest first, and forgets them. */
  public List<ProfileWindow> drainBefore(long windowStartMs) {
    List<ProfileWindow> out = new ArrayList<>();
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

  private String intern(String frame) {
    String existing = frameIntern.putIfAbsent(frame, frame);
    return existing == null ? frame : existing;
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

  /** Stack key with value equality over the frame array. */
  private record StackKey(String[] frames) {
    @Override
    public boolean equals(Object o) {
      return o instanceof StackKey other && Arrays.equals(frames, other.frames);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(frames);
    }
  }

  private final class WindowBuilder {
    private final ContainerRef container;
    private final long startMs;
    private final Map<StackKey, long[]> stacks = new HashMap<>(); // -> {weight, samples}
    private Long cgroupCpuNs;
    private long samples;

    WindowBuilder(ContainerRef container, long startMs) {
      this.container = container;
      this.startMs = startMs;
    }

    void add(String[] stack, long weight) {
      long[] acc = stacks.computeIfAbsent(new StackKey(stack), k -> new long[2]);
      acc[0] += weight;
      acc[1]++;
      samples++;
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
      List<Map.Entry<StackKey, long[]>> sorted = new ArrayList<>(stacks.entrySet());
      sorted.sort(Comparator.<Map.Entry<StackKey, long[]>>comparingLong(e -> -e.getValue()[0])
          .thenComparing(e -> String.join(";", e.getKey().frames())));
      Map<String, Integer> index = new HashMap<>();
      long total = 0;
      for (var entry : sorted) {
        Stack.Builder stack = Stack.newBuilder().setWeight(entry.getValue()[0]).setSamples(entry.getValue()[1]);
        for (String frame : entry.getKey().frames()) {
          Integer i = index.get(frame);
          if (i == null) {
            i = window.getStringsCount();
            index.put(frame, i);
            window.addStrings(frame);
          }
          stack.addFrames(i);
        }
        window.addStacks(stack);
        total += entry.getValue()[0];
      }
      return window.setTotalWeight(total).build();
    }
  }
}
