package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** CPU of the test JVM's own cgroup on this machine, as resolved from {@code /proc/self}. */
class CgroupCpuReaderLiveTest {
  private static final long BURN_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  @Test
  void ownCgroupCpuGrowsAtLeastByWhatThisThreadBurns() throws IOException {
    ContainerIdentity self =
        ContainerResolver.builder()
            .includeHostProcesses(true)
            .build()
            .resolve((int) ProcessHandle.current().pid())
            .orElseThrow();
    CgroupCpuReader reader = CgroupCpuReader.open(ContainerResolver.DEFAULT_CGROUP_ROOT);

    OptionalLong before = reader.cpuNanos(self.cgroupPath());
    // inside a container without its own cgroup namespace, the host path of our cgroup is not mounted
    assumeThat(before)
        .as("own cgroup %s visible under %s", self.cgroupPath(), ContainerResolver.DEFAULT_CGROUP_ROOT)
        .isPresent();
    burnCpu();
    long after = reader.cpuNanos(self.cgroupPath()).orElseThrow();

    assertThat(before.getAsLong()).isPositive();
    // the cgroup holds at least this thread; µs granularity on v2 costs at most a microsecond
    assertThat(after - before.getAsLong()).isGreaterThanOrEqualTo(BURN_NANOS - 1_000);
  }

  private static void burnCpu() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long start = threads.getCurrentThreadCpuTime();
    long sink = 0;
    while (threads.getCurrentThreadCpuTime() - start < BURN_NANOS) {
      for (int i = 0; i < 10_000; i++) {
        sink += i * 31L ^ sink;
      }
    }
    assertThat(sink).isNotEqualTo(1L);
  }
}
