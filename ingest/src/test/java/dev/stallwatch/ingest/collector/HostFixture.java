package dev.stallwatch.ingest.collector;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A cgroup v2 host under a temporary directory: {@code /proc/PID/stat} and {@code /proc/PID/cgroup}
 * of fixture processes, and {@code cpu.stat} of their cgroups, as the collector reads them.
 */
final class HostFixture {
  static final String DOCKER_A = "401e8ae394f1683cdd174cd79d0473b9a0af76126fddc89b0812e28fb888f77d";
  static final String DOCKER_B = "0a650af6f9e74ab6748ff19c5c1c5601ce32b50be118db3d2e8bd1491bf2bc33";
  static final String SERVICE = "/system.slice/nginx.service";

  final Path procRoot;
  final Path cgroupRoot;

  HostFixture(Path dir) {
    this.procRoot = dir.resolve("proc");
    this.cgroupRoot = dir.resolve("sys/fs/cgroup");
    write(cgroupRoot.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
  }

  static String dockerScope(String id) {
    return "/system.slice/docker-" + id + ".scope";
  }

  /** A process in the cgroup {@code cgroupPath} (unified hierarchy). */
  HostFixture process(int pid, String cgroupPath) {
    write(procRoot.resolve(pid + "/stat"), pid + " (app) S 1 " + pid + " " + pid
        + " 0 -1 4194560 26612 0 12 0 1712 388 0 0 20 0 23 0 4242424 2474668032 61440 18446744073709551615"
        + " 1 1 1 0 0 0 0 16781312 16386 0 0 0 17 1 0 0 0 0 0 1 1 1 1 1 1 1 0\n");
    write(procRoot.resolve(pid + "/cgroup"), "0::" + cgroupPath + "\n");
    return this;
  }

  /** Sets the cgroup's CPU counter ({@code usage_usec}). */
  HostFixture cpuUsage(String cgroupPath, long usageMicros) {
    write(cgroupRoot.resolve(cgroupPath.substring(1)).resolve("cpu.stat"),
        "usage_usec " + usageMicros + "\nuser_usec " + usageMicros + "\nsystem_usec 0\n");
    return this;
  }

  static void write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
