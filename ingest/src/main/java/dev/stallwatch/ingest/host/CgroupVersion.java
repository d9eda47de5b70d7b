package dev.stallwatch.ingest.host;

import java.nio.file.Files;
import java.nio.file.Path;

/** Which cgroup hierarchy accounts CPU on a host. */
public enum CgroupVersion {
  /** Legacy or hybrid: per-controller hierarchies, CPU in {@code cpuacct}. */
  V1,
  /** Unified hierarchy mounted at the cgroup root. */
  V2;

  /**
   * A unified hierarchy has {@code cgroup.controllers} at its root. A hybrid host (v1 controllers
   * plus {@code /sys/fs/cgroup/unified}) has none at the root and counts as v1, because the CPU
   * controllers live in the v1 hierarchies there.
   */
  public static CgroupVersion detect(Path cgroupRoot) {
    return Files.isRegularFile(cgroupRoot.resolve("cgroup.controllers")) ? V2 : V1;
  }
}
