package dev.stallwatch.ingest.collector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.ingest.perf.PerfSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * perf missing or refused: {@link PerfRunner#start()} fails with one line that says which and
 * how to fix it. perf is a script here that prints what the real one prints.
 */
class PerfPreflightTest {
  private static final long CAP_SYS_ADMIN_AND_PERFMON = (1L << 21) | (1L << 38);
  private static final PerfPrivileges UNPRIVILEGED_USER =
      new PerfPrivileges(OptionalInt.of(2), 1000, OptionalLong.of(0), 0);
  private static final PerfPrivileges ROOT_UNDER_SECCOMP =
      new PerfPrivileges(OptionalInt.of(2), 0, OptionalLong.of(CAP_SYS_ADMIN_AND_PERFMON), 2);

  @TempDir Path dir;

  private static PerfUnavailableException startFails(PerfSettings settings, PerfPrivileges privileges) {
    PerfRunner runner = PerfRunner.builder(settings, new IgnoringListener())
        .privileges(() -> privileges)
        .startTimeout(Duration.ofSeconds(30))
        .build();
    try {
      runner.start();
      throw new AssertionError("perf started although it should have been refused");
    } catch (PerfUnavailableException e) {
      return e;
    } finally {
      runner.close();
    }
  }

  @Test
  void refusalByPerfEventParanoidSaysWhichSettingAndHowToGrantIt() {
    Path perf = FakePerf.failingRecord(dir, FakePerf.PARANOID_REFUSAL);

    PerfUnavailableException e = startFails(PerfSettings.builder().perf(perf.toString()).build(), UNPRIVILEGED_USER);

    assertThat(e.getMessage()).isEqualTo("perf is not permitted to sample the whole host: kernel.perf_event_paranoid is 2"
        + " and the collector runs as uid 1000 without CAP_PERFMON or CAP_SYS_ADMIN; grant the collector CAP_PERFMON"
        + " (CAP_SYS_ADMIN before Linux 5.8), or let every user sample the host with sysctl -w kernel.perf_event_paranoid=0");
  }

  @Test
  void refusalDespiteCapabilitiesUnderASeccompFilterBlamesSeccomp() {
    Path perf = FakePerf.failingRecord(dir, FakePerf.EPERM_REFUSAL);

    PerfUnavailableException e = startFails(PerfSettings.builder().perf(perf.toString()).build(), ROOT_UNDER_SECCOMP);

    assertThat(e.getMessage())
        .startsWith("perf is not permitted: the kernel refused perf_event_open (No permission to enable cpu-clock event.)")
        .contains("uid 0 with CAP_PERFMON", "seccomp filter", "seccomp=unconfined")
        .doesNotContain("\n");
  }

  @Test
  void refusalWithCapabilitiesAndNoSeccompPointsAtSecurityModules() {
    Path perf = FakePerf.failingRecord(dir, FakePerf.EPERM_REFUSAL);
    PerfPrivileges root = new PerfPrivileges(OptionalInt.of(2), 0, OptionalLong.of(CAP_SYS_ADMIN_AND_PERFMON), 0);

    PerfUnavailableException e = startFails(PerfSettings.builder().perf(perf.toString()).build(), root);

    assertThat(e.getMessage()).startsWith("perf is not permitted: the kernel refused perf_event_open")
        .contains("CAP_PERFMON", "kernel.perf_event_paranoid", "AppArmor");
  }

  @Test
  void aMissingPerfOnPathSaysHowToInstallIt() {
    PerfSettings settings = PerfSettings.builder().perf("stallwatch-no-such-perf").build();

    PerfUnavailableException e = startFailsQuietly(settings);
    assertThat(e.getMessage()).startsWith("perf is not installed: no 'stallwatch-no-such-perf' on PATH (")
        .contains("linux-perf", "--perf");
  }

  @Test
  void aMissingPerfAtAPathNamesThePath() {
    PerfUnavailableException e = startFailsQuietly(PerfSettings.builder().perf(dir.resolve("bin/perf").toString()).build());

    assertThat(e.getMessage()).startsWith("perf is not installed: " + dir.resolve("bin/perf") + " does not exist;");
  }

  @Test
  void aPerfThatIsNotExecutableSaysSo() throws Exception {
    Path perf = Files.writeString(dir.resolve("perf"), "#!/bin/sh\n");

    PerfUnavailableException e = startFailsQuietly(PerfSettings.builder().perf(perf.toString()).build());

    assertThat(e.getMessage()).startsWith("perf is not executable: " + perf);
  }

  @Test
  void anEventThisHostCannotSampleSuggestsCpuClock() {
    Path perf = FakePerf.failingRecord(dir, FakePerf.UNSUPPORTED_EVENT);

    PerfUnavailableException e = startFails(
        PerfSettings.builder().perf(perf.toString()).event("cycles").build(), ROOT_UNDER_SECCOMP);

    assertThat(e.getMessage()).startsWith("perf cannot sample event 'cycles' on this host (The cycles event is not supported.)")
        .endsWith("use --event cpu-clock");
  }

  @Test
  void aPerfWithoutControlSaysHowToRunWithoutFlushing() {
    Path perf = FakePerf.failingRecord(dir, FakePerf.UNKNOWN_CONTROL_OPTION);

    PerfUnavailableException e = startFails(PerfSettings.builder().perf(perf.toString()).build(), ROOT_UNDER_SECCOMP);

    assertThat(e.getMessage()).startsWith("this perf is older than 5.10 and has no --control")
        .contains("(Error: unknown option `control'", "--perf-flush-interval 0");
  }

  @Test
  void aCommandThatEndsBeforeItsFirstSampleIsReportedWithWhatItSaid() {
    PerfSettings settings = PerfSettings.builder().command("echo 'cannot open /sys/kernel/tracing' >&2; exit 3").build();

    PerfUnavailableException e = startFails(settings, UNPRIVILEGED_USER);

    assertThat(e.getMessage()).isEqualTo("perf failed before its first sample: perf command exited with status 3:"
        + " cannot open /sys/kernel/tracing (command: /bin/sh -c echo 'cannot open /sys/kernel/tracing' >&2; exit 3)");
  }

  /** Missing binaries are found before anything is started: the privileges are never read. */
  private static PerfUnavailableException startFailsQuietly(PerfSettings settings) {
    return startFails(settings, null);
  }

  private static final class IgnoringListener implements PerfRunner.Listener {
    @Override
    public void onSample(PerfSample sample) {
      throw new AssertionError("no sample expected, got " + sample);
    }

    @Override
    public void onMalformedLines(long count) {}

    @Override
    public void onRestart() {
      throw new AssertionError("a perf that never worked must not be restarted");
    }
  }
}
