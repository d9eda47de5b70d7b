package dev.stallwatch.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One JVM of the cluster (a broker, the JobManager, a TaskManager): its own process, its output in a log file. */
final class JvmProcess implements AutoCloseable {
  private final String name;
  private final List<String> command;
  private final Path log;
  private final Map<String, String> environment;
  private Process process;
  private int starts;

  JvmProcess(String name, String classpath, List<String> jvmOptions, String mainClass, List<String> args, Path logDir) {
    this(name, classpath, jvmOptions, mainClass, args, logDir, Map.of());
  }

  /** @param environment variables set for the process on top of this JVM's (e.g. FLINK_CONF_DIR) */
  JvmProcess(String name, String classpath, List<String> jvmOptions, String mainClass, List<String> args, Path logDir,
      Map<String, String> environment) {
    this.name = name;
    this.environment = Map.copyOf(environment);
    this.log = logDir.resolve(name + ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(mainClass);
    cmd.addAll(args);
    this.command = List.copyOf(cmd);
  }

  String name() {
    return name;
  }

  Path log() {
    return log;
  }

  synchronized JvmProcess start() {
    if (isAlive()) {
      throw new IllegalStateException(name + " is already running");
    }
    try {
      Files.createDirectories(log.getParent());
      // each start appends, so a restarted process keeps the story of the one killed before it
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().putAll(environment);
      Files.writeString(log, "---- start " + (++starts) + " ----\n",
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      process = builder.start();
      Process started = process;
      // a test JVM that dies (failsafe's timeout) takes its cluster with it
      Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, name + "-reaper"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
    return this;
  }

  synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  synchronized long pid() {
    return process.pid();
  }

  /** {@code kill -9}: no shutdown hook, no goodbye to the rest of the cluster. */
  synchronized void kill9() throws InterruptedException {
    if (process == null) {
      return;
    }
    process.destroyForcibly(); // SIGKILL on Linux
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " (pid " + process.pid() + ") outlived SIGKILL");
    }
  }

  /** Runs to completion (a tool such as the storage formatter); its output goes to the log too. */
  void runToCompletion(Duration timeout) throws InterruptedException {
    start();
    Process p;
    synchronized (this) {
      p = process;
    }
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(name + " did not finish within " + timeout + "; see " + log);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(name + " exited with " + p.exitValue() + "; see " + log);
    }
  }

  String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    Process p;
    synchronized (this) {
      p = process;
    }
    if (p != null && p.isAlive()) {
      p.destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(20, TimeUnit.SECONDS);
      }
    }
  }
}
