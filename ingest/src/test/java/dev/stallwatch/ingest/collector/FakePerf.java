package dev.stallwatch.ingest.collector;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Executables that stand in for perf in tests: scripts that print what a real perf prints and exit
 * as it does. The paranoid refusal and perf script's complaint were captured from perf 6.1 on this
 * kind of machine (as an unprivileged user); the other texts are perf's messages as its sources
 * print them, for situations this machine cannot produce.
 */
final class FakePerf {
  /** {@code perf record -a} as an unprivileged user with {@code kernel.perf_event_paranoid = 2}. */
  static final String PARANOID_REFUSAL = """
      Error:
      Access to performance monitoring and observability operations is limited.
      Consider adjusting /proc/sys/kernel/perf_event_paranoid setting to open
      access to performance monitoring and observability operations for processes
      without CAP_PERFMON, CAP_SYS_PTRACE or CAP_SYS_ADMIN Linux capability.
      More information can be found at 'Perf events and tool security' document:
      https://www.kernel.org/doc/html/latest/admin-guide/perf-security.html
      perf_event_paranoid setting is 2:
        -1: Allow use of (almost) all events by all users
            Ignore mlock limit after perf_event_mlock_kb without CAP_IPC_LOCK
      >= 0: Disallow raw and ftrace function tracepoint access
      >= 1: Disallow CPU event access
      >= 2: Disallow kernel profiling
      To make the adjusted perf_event_paranoid setting permanent preserve it
      in /etc/sysctl.conf (e.g. kernel.perf_event_paranoid = <setting>)
      """;

  /** perf_event_open failing with EPERM although the paranoid level allows it (a seccomp filter). */
  static final String EPERM_REFUSAL = """
      Error:
      No permission to enable cpu-clock event.

      You may not have permission to collect system-wide stats.
      """;

  /** A hardware event on a virtual machine without a PMU. */
  static final String UNSUPPORTED_EVENT = """
      Error:
      The cycles event is not supported.
      """;

  /** A perf record older than 5.10, which has no {@code --control}: its option parser's complaint. */
  static final String UNKNOWN_CONTROL_OPTION = """
        Error: unknown option `control'

         Usage: perf record [<options>] [<command>]
            or: perf record [<options>] -- <command> [<options>]
      """;

  /** perf script on empty input, as when perf record wrote nothing. */
  static final String SCRIPT_ON_EMPTY_INPUT = "incompatible file format (rerun with -v to learn more)";

  private FakePerf() {}

  /** A perf whose {@code record} prints {@code recordError} and exits 255, and whose {@code script} finds no data. */
  static Path failingRecord(Path dir, String recordError) {
    return script(dir.resolve("perf"), """
        #!/bin/sh
        if [ "$1" = record ]; then
          cat >&2 <<'PERF'
        %sPERF
          exit 255
        fi
        cat >/dev/null
        echo '%s' >&2
        exit 255
        """.formatted(recordError, SCRIPT_ON_EMPTY_INPUT));
  }

  static Path script(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
