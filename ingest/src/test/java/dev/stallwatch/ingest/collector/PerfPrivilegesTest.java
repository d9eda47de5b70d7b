package dev.stallwatch.ingest.collector;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerfPrivilegesTest {
  @TempDir Path dir;

  @Test
  void readsParanoidUidCapabilitiesAndSeccompFromProc() {
    HostFixture.write(dir.resolve("sys/kernel/perf_event_paranoid"), "2\n");
    HostFixture.write(dir.resolve("self/status"), """
        Name:\tjava
        Umask:\t0022
        State:\tS (sleeping)
        Uid:\t1000\t1001\t1001\t1001
        Gid:\t1000\t1000\t1000\t1000
        CapInh:\t0000000000000000
        CapPrm:\t0000004000000000
        CapEff:\t0000004000000000
        CapBnd:\t000001ffffffffff
        NoNewPrivs:\t1
        Seccomp:\t2
        Seccomp_filters:\t1
        """);

    PerfPrivileges privileges = PerfPrivileges.read(dir);

    assertThat(privileges.paranoid()).hasValue(2);
    assertThat(privileges.uid()).isEqualTo(1001);
    assertThat(privileges.hasCapability(PerfPrivileges.CAP_PERFMON)).isTrue();
    assertThat(privileges.hasCapability(PerfPrivileges.CAP_SYS_ADMIN)).isFalse();
    assertThat(privileges.paranoidForbidsSystemWide()).isFalse();
    assertThat(privileges.seccompFiltered()).isTrue();
    assertThat(privileges.describeProcess()).isEqualTo("uid 1001 with CAP_PERFMON");
  }

  @Test
  void aKernelWithoutPerfEventsHasNoParanoidSetting() {
    HostFixture.write(dir.resolve("self/status"), "Uid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\nSeccomp:\t0\n");

    assertThat(PerfPrivileges.read(dir).paranoid()).isEmpty();
  }

  @Test
  void theLiveProcessCanBeRead() {
    PerfPrivileges privileges = PerfPrivileges.current();

    assertThat(privileges.uid()).isGreaterThanOrEqualTo(0);
    assertThat(privileges.capEff()).isPresent();
  }
}
