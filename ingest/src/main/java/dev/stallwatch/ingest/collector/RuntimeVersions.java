package dev.stallwatch.ingest.collector;

import dev.stallwatch.ingest.host.ContainerIdentity;
import dev.stallwatch.ingest.host.GoBuildInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Go version of each container, from the build info in {@code /proc/PID/exe} of the first of
 * its sampled processes that is a Go program. Executables are read on another thread: the sampling
 * path only looks the answer up, so a window may carry the version from its container's second
 * window on.
 *
 * <p>The host's root cgroup ({@code cgroup:/}, every process outside a service or container when
 * host processes are included) gets no version: one Go program among hundreds would name them all.
 */
final class RuntimeVersions {
  private static final Logger LOG = LoggerFactory.getLogger(RuntimeVersions.class);
  // a container whose first few processes are no Go programs is not a Go container
  static final int MAX_PROBES_PER_CONTAINER = 8;
  // bounds the memory kept for containers that come and go; past it nothing is remembered
  private static final int MAX_CONTAINERS = 10_000;

  private final Path procRoot;
  private final Executor executor;
  private final Map<String, String> versions = new ConcurrentHashMap<>();
  private final Map<String, Set<Integer>> probed = new ConcurrentHashMap<>();

  RuntimeVersions(Path procRoot, Executor executor) {
    this.procRoot = procRoot;
    this.executor = executor;
  }

  /** The version, e.g. {@code go1.14.1}, or an empty string while unknown. */
  String versionOf(String containerId) {
    return versions.getOrDefault(containerId, "");
  }

  /** Called on the sampling path for each sample's process: schedules a read when it may help. */
  void sampled(ContainerIdentity container, int pid) {
    String id = container.containerId();
    if (versions.containsKey(id) || pid <= 0 || isHostRoot(container)) {
      return;
    }
    Set<Integer> pids = probed.get(id);
    if (pids == null) {
      if (probed.size() >= MAX_CONTAINERS) {
        return;
      }
      pids = probed.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet());
    }
    if (pids.size() >= MAX_PROBES_PER_CONTAINER || !pids.add(pid)) {
      return;
    }
    try {
      executor.execute(() -> probe(id, pid));
    } catch (RejectedExecutionException e) {
      // the reader is busy or stopping: forget the attempt so that a later sample tries again
      pids.remove(pid);
      LOG.debug("Go build info read of pid {} not scheduled: {}", pid, e.getMessage());
    }
  }

  /** Forgets containers that are gone, so that their memory is not kept. */
  void forget(String containerId) {
    versions.remove(containerId);
    probed.remove(containerId);
  }

  private void probe(String containerId, int pid) {
    Path exe = procRoot.resolve(pid + "/exe");
    try {
      Optional<GoBuildInfo> info = GoBuildInfo.read(exe);
      if (info.isPresent()) {
        versions.put(containerId, info.get().goVersion());
        probed.remove(containerId);
        LOG.info("container {} runs {} (pid {})", containerId, info.get().goVersion(), pid);
      }
    } catch (IOException e) {
      // exited, or another user's process without CAP_SYS_PTRACE: the container's next process may do
      LOG.debug("cannot read the Go build info of {}: {}", exe, e.toString());
    }
  }

  private static boolean isHostRoot(ContainerIdentity container) {
    return container.isHostProcess() && container.cgroupPath().equals("/");
  }
}
