package dev.stallwatch.ingest.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.stallwatch.ingest.host.ContainerIdentity;
import dev.stallwatch.ingest.host.ContainerResolver;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.Stack;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector with real perf on this machine: a child process spins on one CPU, the collector
 * runs in dry-run with host processes included, and the child's stacks and about one core of CPU
 * show up under the child's cgroup. Where perf may not sample the host the test fails with the
 * collector's one-line explanation.
 */
class CollectorPerfITCase {
  private static final Duration WINDOW = Collector.DEFAULT_WINDOW;
  private static final double MIN_CORES = 0.5; // one spinning thread on a shared 2-core machine

  @TempDir Path dir;

  @Test
  @Timeout(120)
  void aSpinningChildAppearsWithItsStacksAndAboutOneCoreUnderItsCgroup() throws Exception {
    // a comm of its own: the child shares its cgroup with every other process on this machine
    String comm = "swspin" + ProcessHandle.current().pid() % 100_000;
    Path spinner = Files.createSymbolicLink(dir.resolve(comm), Path.of("/bin/sh"));
    // at the highest priority, so that builds sharing this machine do not starve it of its core
    // (without CAP_SYS_NICE, nice says so on stderr and runs it at the normal priority)
    Process child = new ProcessBuilder("nice", "-n", "-20", spinner.toString(), "-c", "while :; do :; done")
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      String containerId = cgroupPseudoContainer(child.pid());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Collector collector = Collector.builder()
          .host("it-host")
          .includeHostProcesses(true)
          .sink(new JsonLinesSink(out))
          .build();
      try {
        collector.start();
      } catch (PerfUnavailableException e) {
        fail("perf cannot sample this host: " + e.getMessage());
      }
      long startedMs = System.currentTimeMillis();
      // the perf processes the collector started: this JVM's children running perf
      List<Long> perfPids = ProcessHandle.current().children()
          .filter(p -> p.info().command().map(c -> c.endsWith("/perf") || c.equals("perf")).orElse(false))
          .map(ProcessHandle::pid).toList();
      assertThat(perfPids).isNotEmpty();
      Optional<ProfileWindow> window;
      try {
        // the first window that starts after perf's first sample is whole, and has cgroup CPU when the
        // collector read the cgroup at both its ends; a read more than 1 s late (a starved thread on
        // a loaded machine) leaves a window without, and the next one has it
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
            .until(() -> fullWindowWithCpu(out, containerId, startedMs).isPresent());
        window = fullWindowWithCpu(out, containerId, startedMs);
      } finally {
        collector.close();
      }
      await().atMost(Duration.ofSeconds(10))
          .until(() -> perfPids.stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)));

      ProfileWindow w = window.orElseThrow();
      List<Stack> childStacks = w.getStacksList().stream()
          .filter(s -> w.getStrings(s.getFrames(0)).equals(comm))
          .toList();
      assertThat(childStacks).as("stacks of %s in %s", comm, w.getContainerId()).isNotEmpty();
      assertThat(childStacks).anySatisfy(s -> assertThat(s.getFramesCount()).isGreaterThan(1));
      long weight = childStacks.stream().mapToLong(Stack::getWeight).sum();
      double cores = (double) weight / WINDOW.toNanos();
      assertThat(cores).as("cores sampled in %s (load average %s)", comm, loadAverage()).isBetween(MIN_CORES, 1.1);
      assertThat((double) w.getCgroupCpuNs() / WINDOW.toNanos()).as("cgroup CPU of %s", containerId)
          .isGreaterThanOrEqualTo(MIN_CORES);
      assertThat(collector.metrics().windowsPublished()).isGreaterThanOrEqualTo(1);
      assertThat(collector.metrics().samplesRead()).isGreaterThan(childStacks.stream().mapToLong(Stack::getSamples).sum());
    } finally {
      child.destroyForcibly();
    }
  }

  private static String loadAverage() throws IOException {
    return Files.readString(Path.of("/proc/loadavg")).strip();
  }

  /** {@code cgroup:<path>}, as the collector names a process outside containers. */
  private static String cgroupPseudoContainer(long pid) throws Exception {
    Optional<ContainerIdentity> identity =
        ContainerResolver.builder().includeHostProcesses(true).build().resolve((int) pid);
    assertThat(identity).as("cgroup of the child %s", pid).isPresent();
    return identity.get().containerId();
  }

  private static Optional<ProfileWindow> fullWindowWithCpu(ByteArrayOutputStream out, String containerId,
      long startedMs) {
    for (ProfileWindow w : windows(out)) {
      if (w.getContainerId().equals(containerId) && w.getWindowStartMs() >= startedMs && w.hasCgroupCpuNs()) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }

  private static List<ProfileWindow> windows(ByteArrayOutputStream out) {
    List<ProfileWindow> windows = new ArrayList<>();
    String text = out.toString(StandardCharsets.UTF_8);
    // a line longer than the sink's buffer reaches the stream in pieces: read whole lines only
    for (String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      ProfileWindow.Builder window = ProfileWindow.newBuilder();
      try {
        JsonFormat.parser().merge(line, window);
      } catch (InvalidProtocolBufferException e) {
        throw new UncheckedIOException("not a window: " + line, e);
      }
      windows.add(window.build());
    }
    return windows;
  }
}
