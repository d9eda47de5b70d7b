package dev.stallwatch.ingest.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@code /proc} and {@code /sys/fs/cgroup} tree under a temporary directory, holding only the
 * files the host package reads.
 */
final class ProcFixture {
  final Path procRoot;
  final Path cgroupRoot;

  private ProcFixture(Path dir) {
    this.procRoot = dir.resolve("proc");
    this.cgroupRoot = dir.resolve("sys/fs/cgroup");
  }

  /** A unified (v2) host: {@code cgroup.controllers} at the cgroup root. */
  static ProcFixture cgroupV2(Path dir) {
    ProcFixture fixture = new ProcFixture(dir);
    fixture.write(fixture.cgroupRoot.resolve("cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
    return fixture;
  }

  /** A legacy or hybrid (v1) host: per-controller mounts, no {@code cgroup.controllers} at the root. */
  static ProcFixture cgroupV1(Path dir) {
    ProcFixture fixture = new ProcFixture(dir);
    fixture.mkdirs(fixture.cgroupRoot.resolve("cpu,cpuacct"));
    fixture.mkdirs(fixture.cgroupRoot.resolve("memory"));
    return fixture;
  }

  /** A process with a stat line whose comm is {@code comm} and whose start time is {@code startTime}. */
  ProcFixture process(int pid, String comm, long startTime, String cgroupFile) {
    write(procRoot.resolve(pid + "/stat"), statLine(pid, comm, startTime));
    write(procRoot.resolve(pid + "/cgroup"), cgroupFile);
    return this;
  }

  ProcFixture process(int pid, String cgroupFile) {
    return process(pid, "app", 4_242_424L, cgroupFile);
  }

  void write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void mkdirs(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A stat line as Linux 6.x writes it (52 fields); starttime is field 22. */
  static String statLine(int pid, String comm, long startTime) {
    return pid + " (" + comm + ") S 1 " + pid + " " + pid + " 0 -1 4194560 26612 0 12 0 1712 388 0 0 20 0 23 0 "
        + startTime
        + " 2474668032 61440 18446744073709551615 94245812297728 94245812300641 140728151476400 0 0 0 0"
        + " 16781312 16386 0 0 0 17 1 0 0 0 0 0 94245812312336 94245812313000 94245833191424"
        + " 140728151481245 140728151481333 140728151481333 140728151482322 0\n";
  }
}
