package dev.stallwatch.ingest.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * pid → container, from {@code /proc/PID/cgroup}. Results are cached per pid and keyed by the
 * process start time, so a pid the kernel hands to a new process is resolved afresh.
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

  // a pid reused between our two reads of its stat file: try again, but not forever
  private static final int MAX_READ_ATTEMPTS = 3;

  private final Path procRoot;
  private final CgroupVersion cgroupVersion;
  private final boolean includeHostProcesses;
  private final Map<Integer, CachedResolution> cache;

  /** Host processes excluded, default cache size. */
  public ContainerResolver(Path procRoot, Path cgroupRoot) {
    this(builder().procRoot(procRoot).cgroupRoot(cgroupRoot));
  }

  private ContainerResolver(Builder builder) {
    this.procRoot = builder.procRoot;
    this.cgroupVersion = CgroupVersion.detect(builder.cgroupRoot);
    this.includeHostProcesses = builder.includeHostProcesses;
    this.cache = new LruMap<>(builder.cacheCapacity);
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
    for (int attempt = 1; attempt <= MAX_READ_ATTEMPTS; attempt++) {
      Optional<Long> startTime = startTimeTicks(pid);
      if (startTime.isEmpty()) {
        return Optional.empty();
      }
      synchronized (cache) {
        CachedResolution cached = cache.get(pid);
        if (cached != null && cached.startTimeTicks() == startTime.get()) {
          return cached.container();
        }
      }
      Optional<String> cgroupFile = readProcFile(pid, "cgroup");
      if (cgroupFile.isEmpty()) {
        return Optional.empty();
      }
      // the cgroup file belongs to the process we timed only if the start time did not change
      if (startTime.equals(startTimeTicks(pid))) {
        Optional<ContainerIdentity> container = attribute(ProcessCgroups.parse(cgroupFile.get()));
        synchronized (cache) {
          cache.put(pid, new CachedResolution(startTime.get(), container));
        }
        return container;
      }
    }
    throw new IOException(
        "pid " + pid + " was reused " + MAX_READ_ATTEMPTS + " times while reading " + procRoot.resolve(pid + "/cgroup"));
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

  private record CachedResolution(long startTimeTicks, Optional<ContainerIdentity> container) {}

  private static final class LruMap<K, V> extends LinkedHashMap<K, V> {
    private final int capacity;

    LruMap(int capacity) {
      super(16, 0.75f, true);
      this.capacity = capacity;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
      return size() > capacity;
    }
  }

  /** Options of {@link ContainerResolver}; every one has a default. */
  public static final class Builder {
    private Path procRoot = DEFAULT_PROC_ROOT;
    private Path cgroupRoot = DEFAULT_CGROUP_ROOT;
    private boolean includeHostProcesses;
    private int cacheCapacity = DEFAULT_CACHE_CAPACITY;

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

    public ContainerResolver build() {
      return new ContainerResolver(this);
    }
  }
}
