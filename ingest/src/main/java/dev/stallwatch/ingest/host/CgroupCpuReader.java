package dev.stallwatch.ingest.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * CPU time of a cgroup, from the kernel's own accounting: v1 {@code cpuacct.usage} (ns) or v2
 * {@code cpu.stat usage_usec}. Unlike perf samples this does not depend on the sampling rate, so it
 * can show that CPU did not fall after a drain.
 */
public final class CgroupCpuReader {
  private static final String V1_USAGE_FILE = "cpuacct.usage";
  private static final String V2_STAT_FILE = "cpu.stat";
  private static final String V2_USAGE_KEY = "usage_usec";

  private final CgroupVersion version;
  /** The root of the hierarchy that holds CPU accounting: the cgroup root on v2, the cpuacct mount on v1. */
  private final Path hierarchy;

  private CgroupCpuReader(CgroupVersion version, Path hierarchy) {
    this.version = version;
    this.hierarchy = hierarchy;
  }

  /**
   * Detects the cgroup version at {@code cgroupRoot} ({@code /sys/fs/cgroup} on a host).
   *
   * @throws IOException when a v1 root has no cpuacct hierarchy, or it cannot be listed
   */
  public static CgroupCpuReader open(Path cgroupRoot) throws IOException {
    CgroupVersion version = CgroupVersion.detect(cgroupRoot);
    if (version == CgroupVersion.V2) {
      return new CgroupCpuReader(version, cgroupRoot);
    }
    return new CgroupCpuReader(version, cpuacctHierarchy(cgroupRoot));
  }

  public CgroupVersion version() {
    return version;
  }

  /**
   * CPU time used by the cgroup and its descendants since it was created, in nanoseconds.
   *
   * @param cgroupPath the path as in {@code /proc/PID/cgroup}, e.g. {@link ContainerIdentity#cgroupPath()}
   * @return empty when the cgroup no longer exists (its container has gone)
   * @throws IOException when the accounting file cannot be read or does not hold a usage figure
   */
  public OptionalLong cpuNanos(String cgroupPath) throws IOException {
    Path dir = cgroupDirectory(cgroupPath);
    Path file = dir.resolve(version == CgroupVersion.V2 ? V2_STAT_FILE : V1_USAGE_FILE);
    String content;
    try {
      content = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      if (Files.isDirectory(dir)) {
        throw new IOException(file + " is missing: is CPU accounting enabled for this cgroup?", e);
      }
      return OptionalLong.empty();
    }
    return OptionalLong.of(version == CgroupVersion.V2 ? v2UsageNanos(file, content) : v1UsageNanos(file, content));
  }

  /**
   * Average cores used between two readings of the same cgroup {@code interval} apart. A second
   * reading below the first means the counter restarted (the cgroup was recreated under the same
   * path, as a restarted systemd service is), so the second reading alone is the usage since.
   */
  public static double cores(long startCpuNanos, long endCpuNanos, Duration interval) {
    if (interval.isZero() || interval.isNegative()) {
      throw new IllegalArgumentException("interval must be positive, got " + interval);
    }
    long used = endCpuNanos >= startCpuNanos ? endCpuNanos - startCpuNanos : endCpuNanos;
    return (double) used / interval.toNanos();
  }

  private Path cgroupDirectory(String cgroupPath) {
    Objects.requireNonNull(cgroupPath, "cgroupPath");
    if (!cgroupPath.startsWith("/")) {
      throw new IllegalArgumentException("cgroup path must be absolute, as in /proc/PID/cgroup: " + cgroupPath);
    }
    Path dir = hierarchy.resolve(cgroupPath.substring(1)).normalize();
    if (!dir.startsWith(hierarchy.normalize())) {
      throw new IllegalArgumentException("cgroup path leaves the cgroup hierarchy: " + cgroupPath);
    }
    return dir;
  }

  private static long v1UsageNanos(Path file, String content) throws IOException {
    try {
      return Long.parseLong(content.trim());
    } catch (NumberFormatException e) {
      throw new IOException(file + ": expected nanoseconds, got '" + content.trim() + "'", e);
    }
  }

  private static long v2UsageNanos(Path file, String content) throws IOException {
    for (String line : content.split("\n")) {
      String[] fields = line.trim().split(" +");
      if (fields.length == 2 && fields[0].equals(V2_USAGE_KEY)) {
        try {
          return Math.multiplyExact(Long.parseLong(fields[1]), 1_000L);
        } catch (NumberFormatException | ArithmeticException e) {
          throw new IOException(file + ": " + V2_USAGE_KEY + " is not a number of microseconds: '" + fields[1] + "'", e);
        }
      }
    }
    throw new IOException(file + " has no " + V2_USAGE_KEY + " line");
  }

  /**
   * {@code cpuacct} is mounted alone or together with {@code cpu} ({@code cpu,cpuacct}, and
   * {@code cpuacct,cpu} on older systemd), usually with a {@code cpuacct} symlink but not always.
   */
  private static Path cpuacctHierarchy(Path cgroupRoot) throws IOException {
    Path plain = cgroupRoot.resolve("cpuacct");
    if (Files.isDirectory(plain)) {
      return plain;
    }
    try (DirectoryStream<Path> mounts = Files.newDirectoryStream(cgroupRoot, Files::isDirectory)) {
      for (Path mount : mounts) {
        if (Arrays.asList(mount.getFileName().toString().split(",")).contains("cpuacct")) {
          return mount;
        }
      }
    }
    throw new IOException(
        cgroupRoot + " is a cgroup v1 root without a cpuacct hierarchy: mount the cpuacct controller"
            + " or point --cgroup-root at the cgroup mount");
  }
}
