package dev.stallwatch.ingest.collector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Turns perf failing at start into one line that says what is wrong and how to fix it: perf is
 * missing, not permitted (perf_event_paranoid, capabilities, seccomp, memory lock), the kernel has
 * no perf events, or the event cannot be sampled here. It reads perf's own error text, because
 * only perf's attempt tells whether it may sample (see {@link PerfPrivileges}).
 */
final class PerfFailure {
  private static final String INSTALL_HINT =
      "install it (Debian: linux-perf; Ubuntu: linux-tools-$(uname -r); Fedora/RHEL: perf) or give its path with --perf";
  private static final String GRANT_HINT =
      "grant the collector CAP_PERFMON (CAP_SYS_ADMIN before Linux 5.8), or let every user sample the host with"
          + " sysctl -w kernel.perf_event_paranoid=" + PerfPrivileges.SYSTEM_WIDE_PARANOID;
  private static final int MAX_QUOTED_CHARS = 200;

  private PerfFailure() {}

  /** perf could not be started at all: {@code ProcessBuilder.start} failed. */
  static PerfUnavailableException notStarted(PerfSettings settings, IOException e) {
    String program = settings.command().isPresent() ? "/bin/sh" : settings.perf();
    String reason = String.valueOf(e.getMessage());
    if (reason.contains("error=2,") || reason.contains("No such file")) {
      String where = program.contains("/")
          ? program + " does not exist"
          : "no '" + program + "' on PATH (" + System.getenv().getOrDefault("PATH", "") + ")";
      return new PerfUnavailableException("perf is not installed: " + where + "; " + INSTALL_HINT, e);
    }
    if (reason.contains("error=13,") || reason.contains("Permission denied")) {
      return new PerfUnavailableException(
          "perf is not executable: " + program + " (permission denied); make it executable for the collector's user"
              + " or give another path with --perf", e);
    }
    return new PerfUnavailableException("perf could not be started: " + reason, e);
  }

  /**
   * perf ended before its first sample.
   *
   * @param exits e.g. {@code perf record exited with status 255}
   * @param stderr what perf printed on stderr
   */
  static PerfUnavailableException beforeFirstSample(
      PerfSettings settings, String exits, String stderr, PerfPrivileges privileges) {
    String said = quote(stderr);
    String text = stderr.toLowerCase(Locale.ROOT);
    if (text.contains("not found for kernel")) {
      return new PerfUnavailableException("perf is installed, but not for the running kernel (" + said + "); "
          + "install the perf build for this kernel, e.g. linux-tools-$(uname -r), or give its path with --perf");
    }
    if (text.contains("permission error mapping pages")) {
      return new PerfUnavailableException("perf may not lock enough memory for its sample buffers (" + said + "); "
          + "raise it with sysctl -w kernel.perf_event_mlock_kb=2048, grant the collector CAP_IPC_LOCK,"
          + " or use smaller buffers with --perf-mmap-pages 16");
    }
    if (text.contains("unknown option") && text.contains("control")) {
      return new PerfUnavailableException("this perf is older than 5.10 and has no --control, through which the"
          + " collector flushes perf's buffers (" + said + "); install a newer perf, or run without flushing with"
          + " --perf-flush-interval 0 (samples then reach the collector later: raise --window-grace to 10s)");
    }
    if (privileges.paranoid().isEmpty() || text.contains("function not implemented")) {
      return new PerfUnavailableException("this kernel offers no perf events (no /proc/sys/kernel/perf_event_paranoid; "
          + said + "); run the collector on a kernel built with CONFIG_PERF_EVENTS, outside sandboxes such as gVisor");
    }
    if (refused(text)) {
      return notPermitted(said, privileges);
    }
    if (text.contains("event syntax error") || text.contains("not supported") || text.contains("invalid argument")
        || text.contains("unknown tracepoint")) {
      return new PerfUnavailableException("perf cannot sample event '" + settings.event() + "' on this host (" + said
          + "); cpu-clock needs no hardware counters: use --event cpu-clock");
    }
    return new PerfUnavailableException("perf failed before its first sample: " + exits
        + (said.isEmpty() ? " and printed nothing" : ": " + said) + " (command: " + settings.describe() + ")");
  }

  private static boolean refused(String text) {
    return text.contains("perf_event_paranoid") || text.contains("access to performance monitoring")
        || text.contains("no permission") || text.contains("permission denied")
        || text.contains("operation not permitted") || text.contains("eacces") || text.contains("eperm");
  }

  private static PerfUnavailableException notPermitted(String said, PerfPrivileges privileges) {
    int paranoid = privileges.paranoid().getAsInt();
    if (privileges.paranoidForbidsSystemWide()) {
      return new PerfUnavailableException("perf is not permitted to sample the whole host: kernel.perf_event_paranoid is "
          + paranoid + " and the collector runs as " + privileges.describeProcess() + "; " + GRANT_HINT);
    }
    String allowedBy = "kernel.perf_event_paranoid is " + paranoid + " and the collector runs as "
        + privileges.describeProcess();
    if (privileges.seccompFiltered()) {
      return new PerfUnavailableException("perf is not permitted: the kernel refused perf_event_open (" + said + ") although "
          + allowedBy + ", so the seccomp filter on this process blocks it (Seccomp: 2 in /proc/self/status);"
          + " run the collector with a seccomp profile that allows perf_event_open"
          + " (docker run --security-opt seccomp=unconfined; Kubernetes securityContext.seccompProfile.type: Unconfined)");
    }
    return new PerfUnavailableException("perf is not permitted: the kernel refused perf_event_open (" + said + ") with "
        + allowedBy + "; " + GRANT_HINT + ", and check that no security module (AppArmor, SELinux) denies perf_event_open");
  }

  /** The line of perf's output that says the most, shortened: not "Error:", not perf record's summary. */
  static String quote(String stderr) {
    List<String> lines = stderr.lines().map(String::strip)
        .filter(l -> !l.isEmpty() && !l.equalsIgnoreCase("error:") && !l.startsWith("[ perf record:"))
        .toList();
    Optional<String> best = lines.stream()
        .filter(l -> l.toLowerCase(Locale.ROOT).matches(".*(not |no |error|fail|denied|limited|invalid|unknown).*"))
        .findFirst();
    String line = best.orElse(lines.isEmpty() ? "" : lines.get(0));
    return line.length() <= MAX_QUOTED_CHARS ? line : line.substring(0, MAX_QUOTED_CHARS) + "...";
  }

  /** The binary is looked up before starting it, so that a missing perf is reported without a fork. */
  static Optional<PerfUnavailableException> checkInstalled(PerfSettings settings, String path) {
    if (settings.command().isPresent()) {
      return Optional.empty();
    }
    String perf = settings.perf();
    if (perf.contains("/")) {
      Path file = Path.of(perf);
      if (!Files.exists(file)) {
        return Optional.of(new PerfUnavailableException("perf is not installed: " + perf + " does not exist; " + INSTALL_HINT));
      }
      if (!Files.isExecutable(file) || Files.isDirectory(file)) {
        return Optional.of(new PerfUnavailableException(
            "perf is not executable: " + perf + "; make it executable for the collector's user or give another path with --perf"));
      }
      return Optional.empty();
    }
    for (String dir : path.split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir).resolve(perf);
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return Optional.empty();
      }
    }
    return Optional.of(new PerfUnavailableException(
        "perf is not installed: no '" + perf + "' on PATH (" + path + "); " + INSTALL_HINT));
  }
}
