package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The resolver on this machine's own {@code /proc}, for the test JVM itself. */
class ContainerResolverLiveTest {
  private final int pid = (int) ProcessHandle.current().pid();

  private final ContainerResolver containersOnly =
      new ContainerResolver(ContainerResolver.DEFAULT_PROC_ROOT, ContainerResolver.DEFAULT_CGROUP_ROOT);
  private final ContainerResolver withHostProcesses =
      ContainerResolver.builder().includeHostProcesses(true).build();

  @Test
  void attributesTheTestJvmToOneOfItsOwnCgroups() throws IOException {
    Optional<ContainerIdentity> self = withHostProcesses.resolve(pid);

    List<String> ownCgroups = ProcessCgroups.parse(Files.readString(Path.of("/proc/self/cgroup"))).paths();
    assertThat(self).hasValueSatisfying(c -> assertThat(ownCgroups).contains(c.cgroupPath()));
    assertThat(withHostProcesses.resolve(pid)).isEqualTo(self);
  }

  @Test
  void excludingHostProcessesOnlyDropsThePseudoContainer() throws IOException {
    Optional<ContainerIdentity> self = withHostProcesses.resolve(pid);

    assertThat(containersOnly.resolve(pid)).isEqualTo(self.filter(c -> !c.isHostProcess()));
  }

  @Test
  void everyThreadOfTheJvmIsInTheSameContainer() throws IOException {
    Optional<ContainerIdentity> self = withHostProcesses.resolve(pid);
    List<Integer> threadIds;
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      threadIds = tasks.map(p -> Integer.parseInt(p.getFileName().toString())).toList();
    }

    assertThat(threadIds).hasSizeGreaterThan(1);
    for (int tid : threadIds) {
      Optional<ContainerIdentity> thread = withHostProcesses.resolve(tid);
      // a thread may have ended since the listing; one still running shares the JVM's cgroup
      thread.ifPresent(t -> assertThat(t).isEqualTo(self.orElseThrow()));
    }
  }
}
