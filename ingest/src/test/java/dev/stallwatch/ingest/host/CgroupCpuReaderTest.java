package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupCpuReaderTest {
  private static final String DOCKER_ID = "401e8ae394f1683cdd174cd79d0473b9a0af76126fddc89b0812e28fb888f77d";
  private static final String V2_SCOPE = "/system.slice/docker-" + DOCKER_ID + ".scope";

  @TempDir Path dir;

  @Test
  void readsV2UsageUsecAsNanoseconds() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir);
    fixture.write(
        fixture.cgroupRoot.resolve(V2_SCOPE.substring(1)).resolve("cpu.stat"),
        """
        usage_usec 8172635
        user_usec 6123456
        system_usec 2049179
        core_sched.force_idle_usec 0
        nr_periods 1200
        nr_throttled 17
        throttled_usec 90211
        nr_bursts 0
        burst_usec 0
        """);

    CgroupCpuReader reader = CgroupCpuReader.open(fixture.cgroupRoot);

    assertThat(reader.version()).isEqualTo(CgroupVersion.V2);
    assertThat(reader.cpuNanos(V2_SCOPE)).hasValue(8_172_635_000L);
  }

  @Test
  void readsV1CpuacctUsageInCoMountedHierarchy() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV1(dir);
    fixture.write(fixture.cgroupRoot.resolve("cpu,cpuacct/docker/" + DOCKER_ID + "/cpuacct.usage"), "35219771025\n");

    CgroupCpuReader reader = CgroupCpuReader.open(fixture.cgroupRoot);

    assertThat(reader.version()).isEqualTo(CgroupVersion.V1);
    assertThat(reader.cpuNanos("/docker/" + DOCKER_ID)).hasValue(35_219_771_025L);
  }

  @Test
  void prefersTheCpuacctMountWhenItExists() throws IOException {
    // Debian and Ubuntu mount cpu,cpuacct and add cpuacct; this host mounts cpuacct alone
    ProcFixture fixture = ProcFixture.cgroupV1(dir);
    fixture.write(fixture.cgroupRoot.resolve("cpuacct/cpuacct.usage"), "104415378381\n");
    fixture.write(fixture.cgroupRoot.resolve("cpu,cpuacct/cpuacct.usage"), "1\n");

    assertThat(CgroupCpuReader.open(fixture.cgroupRoot).cpuNanos("/")).hasValue(104_415_378_381L);
  }

  @Test
  void findsCpuacctListedSecond() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV1(dir);
    fixture.write(fixture.cgroupRoot.resolve("cpuacct,cpu/system.slice/cpuacct.usage"), "42\n");
    Files.delete(fixture.cgroupRoot.resolve("cpu,cpuacct"));

    assertThat(CgroupCpuReader.open(fixture.cgroupRoot).cpuNanos("/system.slice")).hasValue(42L);
  }

  @Test
  void v1RootWithoutCpuacctSaysWhatIsMissing() throws IOException {
    Path root = dir.resolve("cgroup");
    Files.createDirectories(root.resolve("memory"));

    assertThatThrownBy(() -> CgroupCpuReader.open(root))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("without a cpuacct hierarchy");
  }

  @Test
  void goneCgroupReadsAsEmpty() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir);

    assertThat(CgroupCpuReader.open(fixture.cgroupRoot).cpuNanos(V2_SCOPE)).isEmpty();
  }

  @Test
  void cgroupWithoutAccountingFileIsAnError() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir);
    fixture.mkdirs(fixture.cgroupRoot.resolve(V2_SCOPE.substring(1)));

    assertThatThrownBy(() -> CgroupCpuReader.open(fixture.cgroupRoot).cpuNanos(V2_SCOPE))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cpu.stat is missing");
  }

  @Test
  void cpuStatWithoutUsageIsAnError() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir);
    fixture.write(fixture.cgroupRoot.resolve("cpu.stat"), "user_usec 1\nsystem_usec 2\n");

    assertThatThrownBy(() -> CgroupCpuReader.open(fixture.cgroupRoot).cpuNanos("/"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no usage_usec");
  }

  @Test
  void garbledUsageIsAnError() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV1(dir);
    fixture.write(fixture.cgroupRoot.resolve("cpu,cpuacct/cpuacct.usage"), "lots\n");

    assertThatThrownBy(() -> CgroupCpuReader.open(fixture.cgroupRoot).cpuNanos("/"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("expected nanoseconds, got 'lots'");
  }

  @Test
  void refusesPathsThatLeaveTheHierarchy() throws IOException {
    CgroupCpuReader reader = CgroupCpuReader.open(ProcFixture.cgroupV2(dir).cgroupRoot);

    assertThatThrownBy(() -> reader.cpuNanos("/../../../etc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("leaves the cgroup hierarchy");
    assertThatThrownBy(() -> reader.cpuNanos("system.slice"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be absolute");
  }

  @Test
  void readsTheCgroupTheResolverFound() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir).process(4321, "0::" + V2_SCOPE + "\n");
    fixture.write(fixture.cgroupRoot.resolve(V2_SCOPE.substring(1)).resolve("cpu.stat"), "usage_usec 1500\n");

    ContainerIdentity container =
        new ContainerResolver(fixture.procRoot, fixture.cgroupRoot).resolve(4321).orElseThrow();

    assertThat(CgroupCpuReader.open(fixture.cgroupRoot).cpuNanos(container.cgroupPath())).hasValue(1_500_000L);
  }

  @Test
  void coresAreCpuTimeOverWallTime() {
    assertThat(CgroupCpuReader.cores(2_000_000_000L, 7_000_000_000L, Duration.ofSeconds(10))).isEqualTo(0.5);
    assertThat(CgroupCpuReader.cores(0L, 20_000_000_000L, Duration.ofSeconds(10))).isEqualTo(2.0);
    assertThat(CgroupCpuReader.cores(5L, 5L, Duration.ofSeconds(10))).isZero();
  }

  @Test
  void counterRestartCountsOnlyTheUsageSinceTheRestart() {
    assertThat(CgroupCpuReader.cores(90_000_000_000L, 3_000_000_000L, Duration.ofSeconds(10)))
        .isCloseTo(0.3, within(1e-12));
  }

  @Test
  void coresNeedAPositiveInterval() {
    assertThatThrownBy(() -> CgroupCpuReader.cores(0, 1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interval must be positive");
  }
}
