package dev.stallwatch.ingest.host;

import java.util.Objects;

/**
 * The container a process runs in.
 *
 * @param containerId the runtime's 64-hex container id, or {@code cgroup:<path>} for a host process
 *     when host processes are included
 * @param runtime the runtime the cgroup path names
 * @param podUid the Kubernetes pod UID (with dashes), or an empty string outside Kubernetes
 * @param cgroupPath the process's cgroup path in the hierarchy that accounts CPU (v1 {@code cpuacct},
 *     v2 unified), as {@link CgroupCpuReader} expects it
 */
public record ContainerIdentity(String containerId, ContainerRuntime runtime, String podUid, String cgroupPath) {
  /** Prefix of pseudo-container ids given to host processes. */
  public static final String HOST_PREFIX = "cgroup:";

  public ContainerIdentity {
    Objects.requireNonNull(containerId, "containerId");
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(podUid, "podUid");
    Objects.requireNonNull(cgroupPath, "cgroupPath");
  }

  static ContainerIdentity hostProcess(String cgroupPath) {
    return new ContainerIdentity(HOST_PREFIX + cgroupPath, ContainerRuntime.HOST, "", cgroupPath);
  }

  public boolean isHostProcess() {
    return runtime == ContainerRuntime.HOST;
  }
}
