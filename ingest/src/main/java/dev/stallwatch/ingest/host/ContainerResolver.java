package dev.stallwatch.ingest.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * pid → container, from {@code /proc/PID/cgroup}. Results are cached per pid with the process
 * start time: a pid is read when it is new and then checked again (its {@code /proc/PID/stat}
 * start time) once per {@link Builder#recheckInterval} rather than per sample, so a pid the kernel
 * hands to a new process is resolved afresh within that interval. A pid without a process is
 * remembered as such for at most a second.
 *
 * <p>A process is assumed to stay in the cgroup it was first seen in, which holds for container
 * processes; {@code docker exec} and {@code kubectl exec} start new processes in the container's
 * cgroup rather than moving old ones.
 *
 * <p>Thread-safe.
 */
public final class ContainerResolver {
  public static final Path DEFAULT_PROC_ROOT = Path.of("/proc");
  public static final Path DEFAULT_CGROUP_ROOT = Path.of("/sys/fs/cgroup");
  /** Enough for every live pid on a busy host; pids beyond it are resolved again when seen. */
  public static final int DEFAULT_CACHE_CAPACITY = 32_768;
  /** How long a resolved pid is trusted before its start time is read again. */
  public static final Duration DEFAULT_RECHECK_INTERVAL = Duration.ofSeconds(10);
  private static final long MAX_ABSENT_NANOS = 1_000_000_000L;

  // a pid reused between our two reads of its stat file: try again, but not forever
  private static final int MAX_READ_ATTEMPTS = 3;

  private final Path procRoot;
  private final CgroupVersion cgroupVersion;
  private final boolean includeHostProcesses;
  private final PidCache cache;
  private final long recheckNanos;
  private final long absentNanos;
  private final LongSupplier nanoTime = System::nanoTime;

  /** Host processes excluded, default cache size. */
  public ContainerResolver(Path procRoot, Path cgroupRoot) {
    this(builder().procRoot(procRoot).cgroupRoot(cgroupRoot));
  }

  private ContainerResolver(Builder builder) {
    this.procRoot = builder.procRoot;
    this.cgroupVersion = CgroupVersion.detect(builder.cgroupRoot);
    this.includeHostProcesses = builder.includeHostProcesses;
    this.cache = new PidCache(builder.cacheCapacity);
    this.recheckNanos = builder.recheckInterval.toNanos();
    this.absentNanos = Math.min(recheckNanos, MAX_ABSENT_NANOS);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The container of process (or thread) {@code pid}. Empty when the process has exited, or runs
   * outside any container and host processes are not included.
   *
   * @throws IOException when {@code /proc/PID} exists but cannot be read
   */
  public Optional<ContainerIdentity> resolve(int pid) throws IOException {
    long now = nanoTime.getAsLong();
    CachedResolution cached;
    synchronized (cache) {
      cached = cache.get(pid);
    }
    if (cached != null && now - cached.checkedNanos < (cached.startTimeTicks < 0 ? absentNanos : recheckNanos)) {
      return cached.container;
    }
    for (int attempt = 1; attempt <= MAX_READ_ATTEMPTS; attempt++) {
      Optional<Long> startTime = startTimeTicks(pid);
      if (startTime.isEmpty()) {
        remember(pid, new CachedResolution(-1, Optional.empty(), now));
        return Optional.empty();
      }
      if (cached != null && cached.startTimeTicks == startTime.get()) {
        cached.checkedNanos = now; // the same process: trusted for another interval
        return cached.container;
      }
      Optional<String> cgroupFile = readProcFile(pid, "cgroup");
      if (cgroupFile.isEmpty()) {
        remember(pid, new CachedResolution(-1, Optional.empty(), now));
        return Optional.empty();
      }
      // the cgroup file belongs to the process we timed only if the start time did not change
      if (startTime.equals(startTimeTicks(pid))) {
        Optional<ContainerIdentity> container = attribute(ProcessCgroups.parse(cgroupFile.get()));
        remember(pid, new CachedResolution(startTime.get(), container, now));
        return container;
      }
    }
    throw new IOException(
        "pid " + pid + " was reused " + MAX_READ_ATTEMPTS + " times while reading " + procRoot.resolve(pid + "/cgroup"));
  }

  private void remember(int pid, CachedResolution resolution) {
    synchronized (cache) {
      cache.put(pid, resolution);
    }
  }

  /** The cgroup version detected at the cgroup root; it decides which path is the CPU accounting one. */
  public CgroupVersion cgroupVersion() {
    return cgroupVersion;
  }

  private Optional<ContainerIdentity> attribute(ProcessCgroups cgroups) {
    // an empty cgroup file: a kernel without cgroups, nothing to attribute to
    Optional<String> accountingPath = cgroups.accountingPath(cgroupVersion);
    if (accountingPath.isEmpty()) {
      return Optional.empty();
    }
    String path = accountingPath.get();
    Optional<ContainerIdentity> container =
        ContainerPathMatcher.match(path)
            .map(m -> new ContainerIdentity(m.containerId(), m.runtime(), m.podUid(), path));
    if (container.isPresent() || !includeHostProcesses) {
      return container;
    }
    return Optional.of(ContainerIdentity.hostProcess(path));
  }

  private Optional<Long> startTimeTicks(int pid) throws IOException {
    Optional<String> stat = readProcFile(pid, "stat");
    if (stat.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(ProcStat.startTimeTicks(stat.get()));
    } catch (IllegalArgumentException e) {
      throw new IOException(procRoot.resolve(pid + "/stat") + ": " + e.getMessage(), e);
    }
  }

  /** The file's content, or empty when the process has exited. */
  private Optional<String> readProcFile(int pid, String name) throws IOException {
    Path processDir = procRoot.resolve(Integer.toString(pid));
    Path file = processDir.resolve(name);
    try {
      // cgroup paths and comm are bytes, not necessarily UTF-8: decode leniently
      return Optional.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      // a task that exits while being read fails with ESRCH, not ENOENT
      if (Files.notExists(processDir)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** What a pid resolved to; {@code startTimeTicks} is -1 for a pid without a process. */
  private static final class CachedResolution {
    final long startTimeTicks;
    final Optional<ContainerIdentity> container;
    volatile long checkedNanos;

    CachedResolution(long startTimeTicks, Optional<ContainerIdentity> container, long checkedNanos) {
      this.startTimeTicks = startTimeTicks;
      this.container = container;
      this.checkedNanos = checkedNanos;
    }
  }

  /** pid → resolution without boxing, open addressing; forgets everything when full (pids are resolved again). */
  private static final class PidCache {
    private final int capacity;
    private int[] keys; // pid + 1, 0 = empty
    private CachedResolution[] values;
    private int size;

    PidCache(int capacity) {
      this.capacity = capacity;
      int slots = Integer.highestOneBit(Math.max(16, capacity) * 2 - 1) * 2;
      keys = new int[Math.min(slots, 1 << 22)];
      values = new CachedResolution[keys.length];
    }

    CachedResolution get(int pid) {
      int mask = keys.length - 1;
      for (int s = mix(pid) & mask; keys[s] != 0; s = (s + 1) & mask) {
        if (keys[s] == pid + 1) {
          return values[s];
        }
      }
      return null;
    }

    void put(int pid, CachedResolution value) {
      int mask = keys.length - 1;
      int s = mix(pid) & mask;
      while (keys[s] != 0 && keys[s] != pid + 1) {
        s = (s + 1) & mask;
      }
      if (keys[s] == 0) {
        if (size >= capacity || size * 2 >= keys.length) {
          Arrays.fill(keys, 0);
          Arrays.fill(values, null);
          size = 0;
          put(pid, value);
          return;
        }
        size++;
        keys[s] = pid + 1;
      }
      values[s] = value;
    }

    private static int mix(int pid) {
      return pid * 0x9E3779B9 >>> 7;
    }
  }

  /** Options of {@link ContainerResolver}; every one has a default. */
  public static final class Builder {
    private Path procRoot = DEFAULT_PROC_ROOT;
    private Path cgroupRoot = DEFAULT_CGROUP_ROOT;
    private boolean includeHostProcesses;
    private int cacheCapacity = DEFAULT_CACHE_CAPACITY;
    private Duration recheckInterval = DEFAULT_RECHECK_INTERVAL;

    private Builder() {}

    /** Where {@code /proc} is mounted; a fixture tree in tests, the host's {@code /proc} from a container. */
    public Builder procRoot(Path procRoot) {
      this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
      return this;
    }

    /** Where the cgroup hierarchy is mounted; only its version is read here. */
    public Builder cgroupRoot(Path cgroupRoot) {
      this.cgroupRoot = Objects.requireNonNull(cgroupRoot, "cgroupRoot");
      return this;
    }

    /** Attribute processes outside containers to a pseudo-container {@code cgroup:<path>}. */
    public Builder includeHostProcesses(boolean includeHostProcesses) {
      this.includeHostProcesses = includeHostProcesses;
      return this;
    }

    public Builder cacheCapacity(int cacheCapacity) {
      if (cacheCapacity < 1) {
        throw new IllegalArgumentException("cacheCapacity must be at least 1, got " + cacheCapacity);
      }
      this.cacheCapacity = cacheCapacity;
      return this;
    }

    /**
     * How long a resolved pid is trusted before its start time is read again to catch a reused
     * pid; zero reads it on every look-up.
     */
    public Builder recheckInterval(Duration recheckInterval) {
      if (recheckInterval.isNegative()) {
        throw new IllegalArgumentException("recheckInterval must not be negative, got " + recheckInterval);
      }
      this.recheckInterval = recheckInterval;
      return this;
    }

    public ContainerResolver build() {
      return new ContainerResolver(this);
    }
  }
}
