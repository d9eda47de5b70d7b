package dev.stallwatch.ingest.collector;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What decides whether perf may sample the whole host: the kernel's {@code perf_event_paranoid}
 * and this process's uid, effective capabilities and seccomp mode. Read to explain a refusal,
 * not to predict one: the perf binary may carry file capabilities ({@code setcap cap_perfmon+ep})
 * that this process lacks, so only perf's own attempt says whether it may sample.
 *
 * @param paranoid {@code /proc/sys/kernel/perf_event_paranoid}, empty when the kernel has no perf events
 * @param uid the effective uid, or -1 when unknown
 * @param capEff the effective capability set, empty when unknown
 * @param seccomp 0 none, 1 strict, 2 filter (as containers runtimes install), -1 unknown
 */
public record PerfPrivileges(OptionalInt paranoid, int uid, OptionalLong capEff, int seccomp) {
  static final int CAP_SYS_ADMIN = 21;
  static final int CAP_PERFMON = 38;
  /** System-wide sampling ({@code -a}) with kernel stacks needs a level of 0 or less, or a capability. */
  static final int SYSTEM_WIDE_PARANOID = 0;

  /** The privileges of this JVM, from {@code /proc}. */
  public static PerfPrivileges current() {
    return read(Path.of("/proc"));
  }

  /** Reads {@code sys/kernel/perf_event_paranoid} and {@code self/status} under {@code procRoot}. */
  public static PerfPrivileges read(Path procRoot) {
    Path paranoidFile = procRoot.resolve("sys/kernel/perf_event_paranoid");
    OptionalInt paranoid = OptionalInt.empty();
    // no such sysctl: a kernel built without perf events, or a sandbox such as gVisor
    if (Files.exists(paranoidFile)) {
      try {
        paranoid = OptionalInt.of(Integer.parseInt(Files.readString(paranoidFile, StandardCharsets.US_ASCII).trim()));
      } catch (IOException | NumberFormatException e) {
        throw new IllegalStateException("cannot read " + paranoidFile + ": " + e, e);
      }
    }
    int uid = -1;
    OptionalLong capEff = OptionalLong.empty();
    int seccomp = -1;
    String status;
    try {
      status = Files.readString(procRoot.resolve("self/status"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + procRoot.resolve("self/status") + ": " + e, e);
    }
    for (String line : status.split("\n")) {
      String[] kv = line.split(":\\s*", 2);
      if (kv.length < 2) {
        continue;
      }
      switch (kv[0]) {
        case "Uid" -> uid = Integer.parseInt(kv[1].trim().split("\\s+")[1]); // real, effective, saved, fs
        case "CapEff" -> capEff = OptionalLong.of(Long.parseUnsignedLong(kv[1].trim(), 16));
        case "Seccomp" -> seccomp = Integer.parseInt(kv[1].trim());
        default -> { }
      }
    }
    return new PerfPrivileges(paranoid, uid, capEff, seccomp);
  }

  public boolean hasCapability(int capability) {
    return capEff.isPresent() && (capEff.getAsLong() & (1L << capability)) != 0;
  }

  /** CAP_PERFMON (Linux 5.8+) or CAP_SYS_ADMIN lift the paranoid limit. */
  public boolean privileged() {
    return hasCapability(CAP_PERFMON) || hasCapability(CAP_SYS_ADMIN);
  }

  /** Whether the paranoid setting alone keeps a process without the capabilities from sampling the host. */
  public boolean paranoidForbidsSystemWide() {
    return paranoid.isPresent() && paranoid.getAsInt() > SYSTEM_WIDE_PARANOID && !privileged();
  }

  public boolean seccompFiltered() {
    return seccomp == 2;
  }

  /** E.g. {@code uid 1000 without CAP_PERFMON or CAP_SYS_ADMIN}. */
  String describeProcess() {
    String who = uid < 0 ? "this process" : "uid " + uid;
    if (capEff.isEmpty()) {
      return who;
    }
    if (hasCapability(CAP_PERFMON)) {
      return who + " with CAP_PERFMON";
    }
    if (hasCapability(CAP_SYS_ADMIN)) {
      return who + " with CAP_SYS_ADMIN";
    }
    return who + " without CAP_PERFMON or CAP_SYS_ADMIN";
  }
}
