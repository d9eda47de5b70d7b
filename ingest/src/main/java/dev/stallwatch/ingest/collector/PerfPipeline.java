package dev.stallwatch.ingest.collector;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of perf: {@code perf record | perf script} as two processes joined by an OS pipe, or a
 * custom command under {@code /bin/sh -c}. The JVM reads only the last process's stdout.
 */
final class PerfPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(PerfPipeline.class);
  private static final byte[] PING = "ping\n".getBytes(StandardCharsets.US_ASCII);
  private static final File NO_INPUT = new File("/dev/null");

  private final List<Process> processes;
  private final List<String> names;
  private final List<StderrTail> stderr = new ArrayList<>();
  private final OutputStream control; // perf record's stdin, when it is driven with --control fd:0

  private PerfPipeline(List<Process> processes, List<String> names, boolean controlled) {
    this.processes = processes;
    this.names = names;
    this.control = controlled ? processes.get(0).getOutputStream() : null;
    for (int i = 0; i < processes.size(); i++) {
      stderr.add(new StderrTail(names.get(i), processes.get(i).getErrorStream()));
    }
  }

  static PerfPipeline start(PerfSettings settings) throws IOException {
    List<List<String>> commands = settings.processes();
    List<ProcessBuilder> builders = new ArrayList<>();
    for (List<String> command : commands) {
      builders.add(new ProcessBuilder(command));
    }
    if (!settings.pingsPerf()) {
      builders.get(0).redirectInput(ProcessBuilder.Redirect.from(NO_INPUT));
    }
    List<Process> processes = builders.size() == 1 ? List.of(builders.get(0).start()) : ProcessBuilder.startPipeline(builders);
    List<String> names = settings.command().isPresent() ? List.of("perf command") : List.of("perf record", "perf script");
    return new PerfPipeline(processes, names, settings.pingsPerf());
  }

  /** {@code perf script} text. */
  InputStream output() {
    return processes.get(processes.size() - 1).getInputStream();
  }

  /** Asks perf record to write out its buffers now. */
  void ping() throws IOException {
    if (control == null) {
      return;
    }
    synchronized (control) {
      control.write(PING);
      control.flush();
    }
  }

  /**
   * Stops the first process so that the rest drain and end by themselves, then waits for all of
   * them; whatever is still running after {@code timeout} is killed with its children.
   */
  void stop(Duration timeout) {
    closeControl();
    Process first = processes.get(0);
    // a custom command's shell does not pass SIGTERM on: stop its children first
    first.descendants().forEach(ProcessHandle::destroy);
    // SIGTERM: perf record writes what it has and exits. Through the handle, not Process.destroy(),
    // which also closes the pipes: a process that already ended would lose its last stderr lines.
    first.toHandle().destroy();
    if (!waitForExit(timeout)) {
      kill();
      waitForExit(timeout);
    }
  }

  /** Kills every process of the pipeline and their children at once (SIGKILL). */
  void kill() {
    closeControl();
    List<ProcessHandle> all = new ArrayList<>();
    for (Process process : processes) {
      // collected before killing: once a parent is gone its children cannot be found from it
      process.descendants().forEach(all::add);
      all.add(process.toHandle());
    }
    all.forEach(ProcessHandle::destroyForcibly);
  }

  boolean isAlive() {
    return processes.stream().anyMatch(Process::isAlive);
  }

  /** Whether every process ended within {@code timeout}. */
  boolean waitForExit(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      for (Process process : processes) {
        long left = deadline - System.nanoTime();
        if (!process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
          return false;
        }
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** E.g. {@code perf record exited with status 255, perf script with 0}. */
  String describeExits() {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < processes.size(); i++) {
      Process process = processes.get(i);
      String status = process.isAlive() ? "still running" : "exited with status " + process.exitValue();
      parts.add(names.get(i) + " " + status);
    }
    return String.join(", ", parts);
  }

  /** What the processes printed on stderr, first process first. */
  String stderr() {
    List<String> texts = new ArrayList<>();
    for (StderrTail tail : stderr) {
      String text = tail.text(1_000);
      if (!text.isEmpty()) {
        texts.add(text);
      }
    }
    return String.join("\n", texts);
  }

  List<Long> pids() {
    return processes.stream().map(Process::pid).toList();
  }

  private void closeControl() {
    if (control == null) {
      return;
    }
    synchronized (control) {
      try {
        control.close(); // EOF on perf record's control descriptor ends it as well
      } catch (IOException e) {
        // the pipe is already broken because perf record exited: nothing left to tell it
        LOG.debug("perf record control pipe already closed: {}", e.toString());
      }
    }
  }
}
